using FederatedSharp.Privacy;
using FederatedSharp.Server.Features.CentralDp;

namespace FederatedSharp.Server;

/// <summary>Central differential privacy with any strategy: <see cref="UseCentralDp"/>.</summary>
public static class CentralDpServerBuilderExtensions
{
    /// <summary>
    /// Adds central (client-level) differential privacy to the update pipeline: every update's delta is clipped to the
    /// clipping norm (fixed or adaptive, Andrew et al. 2021) with equal client weights, Gaussian noise is added (on the
    /// mean for linear strategies, so FedAdam or FedAvgM run their step on the noisy mean; on every update for the
    /// others, so the median, Krum or Bulyan keep the guarantee), and the RDP accountant reports <c>dp_epsilon</c> per
    /// round in <see cref="RoundRecord.AggregatorMetrics"/> (and in the audit log). FedAvg with central DP is the former
    /// DpFedAvg strategy, which stays for compatibility. Set <see cref="DpFedAvgOptions.TotalClients"/> to the number of
    /// clients sampled from.
    /// </summary>
    /// <param name="builder">The builder.</param>
    /// <param name="options">Noise multiplier, clipping, accounting.</param>
    /// <param name="placement">Where the noise goes (default: decided by the strategy).</param>
    /// <returns>The builder.</returns>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A setting is out of range.</exception>
    public static FederatedServerBuilder UseCentralDp(this FederatedServerBuilder builder, DpFedAvgOptions options, CentralDpNoisePlacement placement = CentralDpNoisePlacement.Automatic)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(options);
        return builder.UseFeature(new CentralDpFeature(options, placement));
    }
}
