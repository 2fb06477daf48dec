
namespace FederatedSharp.Server;

/// <summary>
/// Seeded client sampling. The sample of round r is a pure function of (seed, r, phase, the sorted available ids),
/// so a resumed or replayed federation samples exactly the same clients.
/// </summary>
internal static class ClientSampler
{
    /// <summary>How many clients a round asks: <c>max(floor(fraction x available), minimum)</c>, at most the number available (Flower's rule).</summary>
    /// <param name="available">Clients available.</param>
    /// <param name="fraction">Fraction to sample.</param>
    /// <param name="minimum">Minimum to sample.</param>
    /// <returns>The sample size.</returns>
    public static int SampleSize(int available, double fraction, int minimum) =>
        Math.Min(available, Math.Max((int)Math.Floor(available * fraction), minimum));

    /// <summary>Draws <paramref name="count"/> distinct clients without replacement.</summary>
    /// <param name="available">The available client ids.</param>
    /// <param name="count">How many to draw.</param>
    /// <param name="seed">The federation's seed.</param>
    /// <param name="round">The round.</param>
    /// <param name="phase">Fit or evaluate (independent streams).</param>
    /// <returns>The sampled ids, in draw order.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="count"/> is negative or exceeds the number available.</exception>
    public static IReadOnlyList<string> Sample(IReadOnlyList<string> available, int count, ulong seed, int round, RoundPhase phase)
    {
        ArgumentNullException.ThrowIfNull(available);
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(count, available.Count);
        string[] ids = available.ToArray();
        Array.Sort(ids, StringComparer.Ordinal);
        var random = new DeterministicRandom(DeterministicRandom.Mix(seed, (ulong)round, (ulong)phase + 1));
        for (int i = 0; i < count; i++)
        {
            int j = random.Next(i, ids.Length);
            (ids[i], ids[j]) = (ids[j], ids[i]);
        }

        return ids[..count];
    }
}
