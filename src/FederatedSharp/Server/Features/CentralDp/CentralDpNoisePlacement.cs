namespace FederatedSharp.Server;

/// <summary>Where central DP adds its Gaussian noise (<see cref="CentralDpServerBuilderExtensions.UseCentralDp"/>).</summary>
public enum CentralDpNoisePlacement
{
    /// <summary><see cref="Aggregate"/> for linear strategies (FedAvg, FedAvgM, FedOpt...), <see cref="PerUpdate"/> for the others.</summary>
    Automatic,

    /// <summary>
    /// Once, on the mean of the clipped updates, with standard deviation z C / m (DP-FedAvg, McMahan et al. 2018); the
    /// strategy's server step then runs on the noisy mean. Needs a strategy declaring <see cref="Aggregation.AggregatorTraits.Linear"/>.
    /// </summary>
    Aggregate,

    /// <summary>
    /// On every clipped update, with standard deviation z C, before the strategy sees it: each client's release is then a
    /// Gaussian mechanism of its own, so any strategy (median, Krum, Bulyan...) keeps the guarantee by post-processing,
    /// at the price of m times the noise variance in a mean. The accountant's epsilon is the same.
    /// </summary>
    PerUpdate,
}
