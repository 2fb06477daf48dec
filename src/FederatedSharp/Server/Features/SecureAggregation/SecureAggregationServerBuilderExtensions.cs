using FederatedSharp.Privacy.SecureAggregation;
using FederatedSharp.Server.Features.SecureAggregation;

namespace FederatedSharp.Server;

/// <summary>Secure aggregation: <see cref="UseSecureAggregation"/>.</summary>
public static class SecureAggregationServerBuilderExtensions
{
    /// <summary>
    /// Aggregates every round with secure aggregation (see <see cref="SecureAggregationServer"/>): the server learns only
    /// the example-weighted mean of the clipped updates, and the strategy's server step runs on that mean, so FedAvg,
    /// FedProx, FedAvgM, FedAdam, FedYogi and FedAdagrad work; strategies that need individual updates (median, Krum,
    /// SCAFFOLD...) are refused at build time. Clients must be wrapped in <see cref="SecureAggregationClient"/>. Update
    /// validation cannot apply, since the server never sees an individual update; clients that drop out are recorded as
    /// failures; a round with fewer than the threshold left fails and the federation goes on. When no strategy is set,
    /// FedAvg is used.
    /// </summary>
    /// <param name="builder">The builder.</param>
    /// <param name="options">Threshold, clip norm, central noise; null for defaults.</param>
    /// <returns>The builder.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="builder"/> is null.</exception>
    public static FederatedServerBuilder UseSecureAggregation(this FederatedServerBuilder builder, SecureAggregationOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.DefaultAggregator ??= new Aggregation.FedAvg();
        return builder.UseFeature(new SecureAggregationFeature(options ?? new SecureAggregationOptions()));
    }
}
