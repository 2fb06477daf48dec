namespace FederatedSharp.Privacy;

/// <summary>Settings of <see cref="DpFedAvg"/>. Defaults follow Flower's central-DP wrappers.</summary>
public sealed class DpFedAvgOptions
{
    /// <summary>z: the noise standard deviation is z x clip norm / sampled clients (required, &gt; 0).</summary>
    public double NoiseMultiplier { get; set; } = 1.0;

    /// <summary>The clipping norm C for fixed clipping, or the initial one with <see cref="AdaptiveClipping"/> (default 1.0).</summary>
    public double ClipNorm { get; set; } = 1.0;

    /// <summary>Adapt the clipping norm to the <see cref="TargetQuantile"/> of the update norms (Andrew et al. 2021); default false.</summary>
    public bool AdaptiveClipping { get; set; }

    /// <summary>The quantile of update norms the adaptive clip norm tracks (Flower's <c>target_clipped_quantile</c>, default 0.5).</summary>
    public double TargetQuantile { get; set; } = 0.5;

    /// <summary>Learning rate of the geometric clip-norm update (Flower's <c>clip_norm_lr</c>, default 0.2).</summary>
    public double ClipLearningRate { get; set; } = 0.2;

    /// <summary>Noise on the count of unclipped updates; null for Flower's default, sampled clients / 20.</summary>
    public double? ClippedCountStddev { get; set; }

    /// <summary>Number of clients the federation samples from (for the accountant's sample rate q = sampled / total); required.</summary>
    public int TotalClients { get; set; }

    /// <summary>The delta at which epsilon is reported each round (default 1e-5).</summary>
    public double Delta { get; set; } = 1e-5;

    /// <summary>Seed of the noise (with the round number), so a simulation replays exactly.</summary>
    public ulong Seed { get; set; }

    /// <summary>
    /// The loss grid of the <see cref="PldAccountant"/> that reports <c>dp_epsilon_pld</c> next to the RDP
    /// <c>dp_epsilon</c> each round (default 1e-3: about 30 ms a round, an upper bound at most rounds x 1e-3 above the
    /// exact epsilon); 0 turns the PLD accountant off.
    /// </summary>
    public double PldDiscretization { get; set; } = 1e-3;

    /// <summary>Checks the settings.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A setting is out of range.</exception>
    public void Validate()
    {
        Check(NoiseMultiplier > 0 && double.IsFinite(NoiseMultiplier), nameof(NoiseMultiplier), "must be a finite number > 0");
        Check(ClipNorm > 0 && double.IsFinite(ClipNorm), nameof(ClipNorm), "must be a finite number > 0");
        Check(TargetQuantile is > 0 and < 1, nameof(TargetQuantile), "must lie in (0, 1)");
        Check(ClipLearningRate > 0, nameof(ClipLearningRate), "must be > 0");
        Check(ClippedCountStddev is null or > 0, nameof(ClippedCountStddev), "must be > 0");
        Check(TotalClients > 0, nameof(TotalClients), "must be the number of clients sampled from (> 0)");
        Check(Delta is > 0 and < 1, nameof(Delta), "must lie in (0, 1)");
        Check(PldDiscretization is 0 or (> 0 and <= 0.1), nameof(PldDiscretization), "must be 0 (off) or lie in (0, 0.1]");
    }

    private static void Check(bool ok, string name, string rule)
    {
        if (!ok)
        {
            throw new ArgumentOutOfRangeException(name, $"{name} {rule}.");
        }
    }
}
