namespace FederatedSharp.Aggregation;

/// <summary>
/// FedAdagrad (Reddi et al. 2021): <see cref="FedOpt"/> with the second-moment rule of Adagrad: <c>v = v + d^2</c>. Defaults follow Flower: eta 0.1, beta1 0.0, tau 1e-9 (beta2 is unused).
/// </summary>
public sealed class FedAdagrad : FedOpt
{
    /// <summary>Creates the strategy.</summary>
    /// <param name="eta">Server learning rate (Flower's <c>eta</c>, default 0.1).</param>
    /// <param name="beta1">First-moment decay (Flower's <c>beta_1</c>, default 0.0).</param>
    /// <param name="beta2">Second-moment decay (Flower's <c>beta_2</c>, default 0.0).</param>
    /// <param name="tau">Adaptivity (Flower's <c>tau</c>, default 1e-9).</param>
    /// <exception cref="ArgumentOutOfRangeException">A hyperparameter is out of range.</exception>
    public FedAdagrad(double eta = 0.1, double beta1 = 0.0, double beta2 = 0.0, double tau = 1e-9)
        : base("FedAdagrad", AdaptiveRule.Adagrad, eta, beta1, beta2, tau)
    {
    }
}
