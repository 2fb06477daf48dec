using MathNet.Numerics.Distributions;

namespace FederatedSharp.Simulation;

/// <summary>
/// Label-skewed non-IID partitions (Hsu et al. 2019, "Measuring the Effects of Non-Identical Data Distribution"): for
/// each class, client shares are drawn from Dirichlet(alpha, ..., alpha) and the class's samples are dealt out in
/// those proportions. Small alpha (0.1) gives clients few classes; large alpha (100) approaches IID. Draws are
/// repeated (with the same seeded stream) until every client holds at least <c>minPartitionSize</c> samples.
/// </summary>
public static class DirichletPartitioner
{
    /// <summary>Partitions samples by label.</summary>
    /// <param name="labels">Each sample's class label.</param>
    /// <param name="clientCount">Number of clients.</param>
    /// <param name="alpha">Concentration (&gt; 0).</param>
    /// <param name="seed">The seed.</param>
    /// <param name="minPartitionSize">Smallest acceptable partition (default 1).</param>
    /// <param name="maxAttempts">Redraws before giving up (default 1,000).</param>
    /// <returns>For each client, its sample indices in ascending order.</returns>
    /// <exception cref="ArgumentOutOfRangeException">An argument is out of range.</exception>
    /// <exception cref="InvalidOperationException">No draw met <paramref name="minPartitionSize"/> within <paramref name="maxAttempts"/>.</exception>
    public static IReadOnlyList<int[]> Partition(IReadOnlyList<int> labels, int clientCount, double alpha, ulong seed, int minPartitionSize = 1, int maxAttempts = 1000)
    {
        ArgumentNullException.ThrowIfNull(labels);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(clientCount);
        if (!(alpha > 0) || double.IsInfinity(alpha))
        {
            throw new ArgumentOutOfRangeException(nameof(alpha), alpha, "The Dirichlet concentration must be a finite number > 0.");
        }

        ArgumentOutOfRangeException.ThrowIfNegative(minPartitionSize);
        if ((long)minPartitionSize * clientCount > labels.Count)
        {
            throw new ArgumentOutOfRangeException(nameof(minPartitionSize), $"{clientCount} clients x {minPartitionSize} samples exceeds the {labels.Count} samples.");
        }

        int[][] byClass = labels.Select((label, index) => (label, index))
            .GroupBy(p => p.label)
            .OrderBy(g => g.Key)
            .Select(g => g.Select(p => p.index).ToArray())
            .ToArray();
        var random = new DeterministicRandom(seed);
        double[] shares = new double[clientCount];
        for (int attempt = 0; attempt < maxAttempts; attempt++)
        {
            var parts = Enumerable.Range(0, clientCount).Select(_ => new List<int>()).ToArray();
            foreach (int[] members in byClass)
            {
                int[] shuffled = (int[])members.Clone();
                random.ShuffleInPlace(shuffled.AsSpan());
                double total = 0;
                for (int c = 0; c < clientCount; c++)
                {
                    shares[c] = Gamma.Sample(random, alpha, 1.0);
                    total += shares[c];
                }

                int start = 0;
                double cumulative = 0;
                for (int c = 0; c < clientCount; c++)
                {
                    cumulative += shares[c];
                    int end = c == clientCount - 1 ? shuffled.Length : (int)Math.Round(shuffled.Length * (cumulative / total));
                    end = Math.Clamp(end, start, shuffled.Length);
                    parts[c].AddRange(shuffled.AsSpan(start, end - start));
                    start = end;
                }
            }

            if (parts.All(p => p.Count >= minPartitionSize))
            {
                return parts.Select(p =>
                {
                    int[] a = p.ToArray();
                    Array.Sort(a);
                    return a;
                }).ToArray();
            }
        }

        throw new InvalidOperationException($"No Dirichlet({alpha}) draw gave every one of {clientCount} clients at least {minPartitionSize} samples in {maxAttempts} attempts; raise alpha or lower the minimum.");
    }
}
