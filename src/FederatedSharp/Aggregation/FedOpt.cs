using FederatedSharp.Clients;
using FederatedSharp.Parameters;

namespace FederatedSharp.Aggregation;

/// <summary>
/// The FedOpt family (Reddi et al. 2021, "Adaptive Federated Optimization"): the server treats
/// <c>d = avg - w</c> (avg the FedAvg of the updates) as a pseudo-gradient and applies an adaptive optimizer, as Flower
/// computes it: <c>m = b1 m + (1 - b1) d</c>; a second-moment rule for v (<see cref="FedAdagrad"/>,
/// <see cref="FedAdam"/>, <see cref="FedYogi"/>); <c>w = w + eta m / (sqrt(v) + tau)</c>; m and v start at zero. The
/// moments are checkpointable state. Memory: O(model) (three model-sized buffers).
/// </summary>
public abstract class FedOpt : IStatefulAggregator
{
    private readonly AdaptiveServerOptimizer _optimizer;

    private protected FedOpt(string name, AdaptiveRule rule, double eta, double beta1, double beta2, double tau)
    {
        _optimizer = new AdaptiveServerOptimizer(name, rule, eta, beta1, beta2, tau);
        Name = name;
        Eta = eta;
        Beta1 = beta1;
        Beta2 = beta2;
        Tau = tau;
    }

    /// <summary>Server learning rate.</summary>
    public double Eta { get; }

    /// <summary>First-moment decay.</summary>
    public double Beta1 { get; }

    /// <summary>Second-moment decay.</summary>
    public double Beta2 { get; }

    /// <summary>Adaptivity.</summary>
    public double Tau { get; }

    /// <inheritdoc />
    public string Name { get; }

    /// <inheritdoc />
    public AggregatorTraits Traits => AggregatorTraits.Linear;

    /// <inheritdoc />
    public void ConfigureFit(int round, ConfigRecord config)
    {
    }

    /// <inheritdoc />
    public IRoundAggregator BeginRound(ModelParameters globalParameters, AggregationContext context)
    {
        ArgumentNullException.ThrowIfNull(globalParameters);
        return _optimizer.BeginRound(globalParameters);
    }

    /// <inheritdoc />
    public AggregatorState ExportState() => _optimizer.Export();

    /// <inheritdoc />
    public void ImportState(AggregatorState state) => _optimizer.Import(state);
}
