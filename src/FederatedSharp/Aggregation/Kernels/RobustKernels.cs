using System.Numerics.Tensors;

namespace FederatedSharp.Aggregation.Kernels;

/// <summary>
/// Kernels of the order-statistic strategies. Coordinate-wise statistics sort the N values of each coordinate
/// (O(P N log N)); pairwise distances use <see cref="TensorPrimitives.Distance(ReadOnlySpan{float}, ReadOnlySpan{float})"/>
/// per block, summed in double (O(P N^2)).
/// </summary>
internal static class RobustKernels
{
    /// <summary>Coordinate-wise median (mean of the two middle values for even N).</summary>
    /// <param name="inputs">N inputs of equal length.</param>
    /// <param name="destination">The output.</param>
    public static void Median(IReadOnlyList<float[]> inputs, Span<float> destination) =>
        CoordinateWise(inputs, destination, sorted => sorted.Length % 2 == 1
            ? sorted[sorted.Length / 2]
            : (float)((sorted[(sorted.Length / 2) - 1] + (double)sorted[sorted.Length / 2]) / 2));

    /// <summary>Coordinate-wise trimmed mean: drop the <paramref name="cut"/> smallest and largest values, average the rest.</summary>
    /// <param name="inputs">N inputs of equal length.</param>
    /// <param name="cut">Values dropped at each end; 2 cut &lt; N.</param>
    /// <param name="destination">The output.</param>
    /// <exception cref="ArgumentOutOfRangeException">Nothing would remain.</exception>
    public static void TrimmedMean(IReadOnlyList<float[]> inputs, int cut, Span<float> destination)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        if (cut < 0 || 2 * cut >= inputs.Count)
        {
            throw new ArgumentOutOfRangeException(nameof(cut), cut, $"Trimming {cut} values at each end of {inputs.Count} leaves nothing to average.");
        }

        CoordinateWise(inputs, destination, sorted =>
        {
            double sum = 0;
            for (int i = cut; i < sorted.Length - cut; i++)
            {
                sum += sorted[i];
            }

            return (float)(sum / (sorted.Length - (2 * cut)));
        });
    }

    /// <summary>Squared Euclidean distances between every pair of inputs (symmetric, zero diagonal).</summary>
    /// <param name="inputs">N inputs of equal length.</param>
    /// <returns>The N x N matrix.</returns>
    public static double[,] PairwiseSquaredDistances(IReadOnlyList<float[]> inputs)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        int n = inputs.Count;
        var distances = new double[n, n];
        var pairs = new List<(int, int)>();
        for (int i = 0; i < n; i++)
        {
            for (int j = i + 1; j < n; j++)
            {
                pairs.Add((i, j));
            }
        }

        Parallel.ForEach(pairs, pair =>
        {
            (int i, int j) = pair;
            double sum = 0;
            float[] a = inputs[i];
            float[] b = inputs[j];
            for (int start = 0; start < a.Length; start += AggregationKernels.CacheBlockLength)
            {
                int count = Math.Min(AggregationKernels.CacheBlockLength, a.Length - start);
                double d = TensorPrimitives.Distance(a.AsSpan(start, count), b.AsSpan(start, count));
                sum += d * d;
            }

            distances[i, j] = sum;
            distances[j, i] = sum;
        });
        return distances;
    }

    /// <summary>Krum scores (Blanchard et al. 2017): for each input, the sum of its squared distances to its <paramref name="neighbours"/> closest other inputs.</summary>
    /// <param name="distances">Pairwise squared distances.</param>
    /// <param name="candidates">Indices to score (and to count as neighbours).</param>
    /// <param name="neighbours">How many closest inputs count.</param>
    /// <returns>The score of each candidate, in candidate order.</returns>
    public static double[] KrumScores(double[,] distances, IReadOnlyList<int> candidates, int neighbours)
    {
        ArgumentNullException.ThrowIfNull(distances);
        ArgumentNullException.ThrowIfNull(candidates);
        var scores = new double[candidates.Count];
        for (int c = 0; c < candidates.Count; c++)
        {
            int i = candidates[c];
            scores[c] = candidates.Where(j => j != i).Select(j => distances[i, j]).OrderBy(d => d).Take(neighbours).Sum();
        }

        return scores;
    }

    private static void CoordinateWise(IReadOnlyList<float[]> inputs, Span<float> destination, Func<float[], float> statistic)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        int n = inputs.Count;
        if (n == 0)
        {
            throw new ArgumentException("No inputs.", nameof(inputs));
        }

        foreach (float[] input in inputs)
        {
            if (input.Length != destination.Length)
            {
                throw new ArgumentException($"Input length {input.Length} differs from the destination's {destination.Length}.", nameof(inputs));
            }
        }

        float[] result = new float[destination.Length];
        Parallel.For(0, (destination.Length + 4095) / 4096, () => new float[n], (block, _, column) =>
        {
            int start = block * 4096;
            int end = Math.Min(result.Length, start + 4096);
            for (int p = start; p < end; p++)
            {
                for (int k = 0; k < n; k++)
                {
                    column[k] = inputs[k][p];
                }

                Array.Sort(column);
                result[p] = statistic(column);
            }

            return column;
        }, _ => { });
        result.CopyTo(destination);
    }
}
