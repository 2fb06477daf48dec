using FederatedSharp.Clients;
using FederatedSharp.Parameters;

namespace FederatedSharp.Aggregation;

/// <summary>
/// FedProx (Li et al. 2020, "Federated Optimization in Heterogeneous Networks"). Clients minimise their loss plus the
/// proximal term <c>mu/2 * ||w - w_global||^2</c>, which keeps heterogeneous clients near the global model; the
/// server side is FedAvg. This strategy sends <see cref="ProximalMu"/> to clients as <see cref="ConfigKeys.ProximalMu"/>.
/// </summary>
public sealed class FedProx : IAggregator
{
    /// <summary>Creates the strategy.</summary>
    /// <param name="proximalMu">The proximal coefficient mu (Flower has no default; FLamby's Fed-Heart-Disease uses 0.01).</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="proximalMu"/> is negative or not finite.</exception>
    public FedProx(double proximalMu)
    {
        if (!double.IsFinite(proximalMu) || proximalMu < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(proximalMu), proximalMu, "The proximal coefficient mu must be a finite number >= 0.");
        }

        ProximalMu = proximalMu;
    }

    /// <summary>The proximal coefficient mu.</summary>
    public double ProximalMu { get; }

    /// <inheritdoc />
    public string Name => "FedProx";

    /// <inheritdoc />
    public AggregatorTraits Traits => AggregatorTraits.Linear;

    /// <inheritdoc />
    public void ConfigureFit(int round, ConfigRecord config)
    {
        ArgumentNullException.ThrowIfNull(config);
        config[ConfigKeys.ProximalMu] = ProximalMu;
    }

    /// <inheritdoc />
    public IRoundAggregator BeginRound(ModelParameters globalParameters, AggregationContext context)
    {
        ArgumentNullException.ThrowIfNull(globalParameters);
        return new WeightedAverageRound(globalParameters.Layout);
    }
}
