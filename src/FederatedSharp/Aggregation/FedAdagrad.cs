using FederatedSharp.Clients;
using FederatedSharp.Parameters;

namespace FederatedSharp.Aggregation;

/// <summary>
/// Reddi et al. 2021, "Adaptive Federated Optimization": the server applies Adagrad to the pseudo-gradient <c>d = avg - w</c>: <c>m = b1 m + (1 - b1) d</c>, <c>v = v + d^2</c>, <c>w = w + eta m / (sqrt(v) + tau)</c>. Defaults follow Flower: eta 0.1, beta1 0.0, tau 1e-9 (beta2 is unused).
/// The moments m and v are checkpointable state. Memory: O(model) (three model-sized buffers).
/// </summary>
public sealed class FedAdagrad : IStatefulAggregator
{
    private readonly AdaptiveServerOptimizer _optimizer;

    /// <summary>Creates the strategy.</summary>
    /// <param name="eta">Server learning rate (Flower's <c>eta</c>, default 0.1).</param>
    /// <param name="beta1">First-moment decay (Flower's <c>beta_1</c>, default 0.0).</param>
    /// <param name="beta2">Second-moment decay (Flower's <c>beta_2</c>, default 0.0).</param>
    /// <param name="tau">Adaptivity (Flower's <c>tau</c>, default 1e-9).</param>
    /// <exception cref="ArgumentOutOfRangeException">A hyperparameter is out of range.</exception>
    public FedAdagrad(double eta = 0.1, double beta1 = 0.0, double beta2 = 0.0, double tau = 1e-9)
    {
        _optimizer = new AdaptiveServerOptimizer("FedAdagrad", AdaptiveRule.Adagrad, eta, beta1, beta2, tau);
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
    public string Name => "FedAdagrad";

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
