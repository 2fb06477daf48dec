namespace FederatedSharp.Aggregation;

/// <summary>What a strategy declares about itself (<see cref="IAggregator.Traits"/>); the server checks it once, at build time.</summary>
[Flags]
public enum AggregatorTraits
{
    /// <summary>Nothing declared: the strategy may need every individual update (median, Krum, q-FFL, SCAFFOLD).</summary>
    None = 0,

    /// <summary>
    /// The round's result depends on the updates only through their example-weighted mean: one update equal to the mean
    /// gives the same new model as the updates themselves. FedAvg, FedProx, FedAvgM and the FedOpt family declare it.
    /// Secure aggregation and central DP's aggregate noise need it, since they hand the strategy that mean only.
    /// </summary>
    Linear = 1,
}
