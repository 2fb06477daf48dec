using FederatedSharp.Clients;
using FederatedSharp.Parameters;

namespace FederatedSharp.Aggregation;

/// <summary>
/// A server-side aggregation strategy. Per round the server calls <see cref="ConfigureFit"/> to let the strategy add
/// its client-side settings to the round configuration, then <see cref="BeginRound"/>, then hands each validated
/// client update to the returned <see cref="IRoundAggregator"/> as it arrives and finally calls
/// <see cref="IRoundAggregator.Complete"/>. Server-side optimizer state (momentum, moments) lives in the strategy.
/// </summary>
public interface IAggregator
{
    /// <summary>The strategy's name (for logs, history and selection by name).</summary>
    string Name { get; }

    /// <summary>Adds the strategy's client-side settings (for example FedProx's <c>proximal_mu</c>) to a round's fit configuration.</summary>
    /// <param name="round">The round number.</param>
    /// <param name="config">The configuration about to be sent; mutable until the server freezes it.</param>
    void ConfigureFit(int round, ConfigRecord config);

    /// <summary>Starts aggregating a round.</summary>
    /// <param name="globalParameters">The global parameters the clients started from (read-only; valid until <see cref="IRoundAggregator.Complete"/> returns).</param>
    /// <param name="context">The round number and the number of clients asked.</param>
    /// <returns>The round's accumulator; the caller disposes it.</returns>
    IRoundAggregator BeginRound(ModelParameters globalParameters, AggregationContext context);

    /// <summary>What the strategy declares about itself (default: nothing); see <see cref="AggregatorTraits"/>.</summary>
    AggregatorTraits Traits => AggregatorTraits.None;
}
