namespace FederatedSharp.Aggregation;

/// <summary>
/// FedAdam (Reddi et al. 2021): <see cref="FedOpt"/> with the second-moment rule of Adam: <c>v = b2 v + (1 - b2) d^2</c>, without bias correction (as Flower). Defaults follow Flower: eta 0.1, beta1 0.9, beta2 0.99, tau 1e-9.
/// </summary>
public sealed class FedAdam : FedOpt
{
    /// <summary>Creates the strategy.</summary>
    /// <param name="eta">Server learning rate (Flower's <c>eta</c>, default 0.1).</param>
    /// <param name="beta1">First-moment decay (Flower's <c>beta_1</c>, default 0.9).</param>
    /// <param name="beta2">Second-moment decay (Flower's <c>beta_2</c>, default 0.99).</param>
    /// <param name="tau">Adaptivity (Flower's <c>tau</c>, default 1e-9).</param>
    /// <exception cref="ArgumentOutOfRangeException">A hyperparameter is out of range.</exception>
    public FedAdam(double eta = 0.1, double beta1 = 0.9, double beta2 = 0.99, double tau = 1e-9)
        : base("FedAdam", AdaptiveRule.Adam, eta, beta1, beta2, tau)
    {
    }
}
