namespace FederatedSharp.Privacy.SecureAggregation;

/// <summary>Settings of <see cref="SecureAggregationServer"/>.</summary>
public sealed class SecureAggregationOptions
{
    /// <summary>
    /// Shares needed to recover a secret, and so the fewest clients that must stay until the end of a round; null for
    /// the default floor(2n/3) + 1 of the n clients that start the round (at least 2). A round survives n - t drop-outs.
    /// </summary>
    public int? Threshold { get; set; }

    /// <summary>
    /// SecAgg+ (Bell et al. 2020): each client shares secrets with and masks against only this many neighbours (an even
    /// number; a seeded random ring, k/2 on each side) instead of all n - 1 others, which cuts the masking cost from
    /// O(n^2) to O(n k); the threshold then applies within each neighbourhood of k + 1. Null (default): all clients.
    /// Choose k of order log n or more (Bell et al. use about 2 log2 n for their guarantees).
    /// </summary>
    public int? Neighbours { get; set; }

    /// <summary>Each client's update (its change to the model) is clipped to this L2 norm before it is weighted and masked.</summary>
    public double ClipNorm { get; set; } = 10.0;

    /// <summary>The largest example count a client may report; it bounds the fixed-point range (default 1,000,000).</summary>
    public long MaxExampleCount { get; set; } = 1_000_000;

    /// <summary>
    /// Central DP noise added by the server to the unmasked weighted sum: standard deviation NoiseMultiplier x ClipNorm x
    /// MaxExampleCount per coordinate (the sensitivity of the weighted sum to one client); 0 (default) for none.
    /// </summary>
    public double NoiseMultiplier { get; set; }

    /// <summary>Seed of the central noise.</summary>
    public ulong Seed { get; set; }

    /// <summary>The longest wait for one phase's replies; a client that does not answer in time counts as dropped.</summary>
    public TimeSpan PhaseTimeout { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>Checks the settings.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A setting is out of range.</exception>
    public void Validate()
    {
        if (Threshold is < 2)
        {
            throw new ArgumentOutOfRangeException(nameof(Threshold), Threshold, "The threshold must be at least 2.");
        }

        if (Neighbours is { } k && (k < 2 || k % 2 != 0))
        {
            throw new ArgumentOutOfRangeException(nameof(Neighbours), Neighbours, "The neighbour count must be an even number of at least 2.");
        }

        if (!(ClipNorm > 0) || double.IsInfinity(ClipNorm))
        {
            throw new ArgumentOutOfRangeException(nameof(ClipNorm), ClipNorm, "The clip norm must be positive and finite.");
        }

        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(MaxExampleCount, nameof(MaxExampleCount));
        if (!(NoiseMultiplier >= 0) || double.IsInfinity(NoiseMultiplier))
        {
            throw new ArgumentOutOfRangeException(nameof(NoiseMultiplier), NoiseMultiplier, "The noise multiplier must be a non-negative number.");
        }

        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(PhaseTimeout, TimeSpan.Zero, nameof(PhaseTimeout));
    }
}
