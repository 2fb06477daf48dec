using System.Numerics.Tensors;

namespace FederatedSharp.Aggregation.Kernels;

/// <summary>
/// Kernels of the distance-based strategies (Krum, Multi-Krum, Bulyan). Pairwise distances are computed in
/// cache-sized blocks of coordinates on all cores; the coordinate-wise statistics are in
/// <see cref="OrderStatistics"/>.
/// </summary>
internal static class RobustKernels
{
    /// <summary>Bytes of input slices one block of the distance pass keeps in cache (all inputs' slices of the block).</summary>
    private const int BlockBytes = 256 * 1024;

    /// <summary>
    /// Squared Euclidean distances between every pair of inputs (symmetric, zero diagonal), in cache-sized blocks of
    /// coordinates on all cores: each block of every input is read from memory once and every pair's distance over the
    /// block is taken while the block is in cache (float SIMD within a block, double across blocks). Pairs are compared
    /// directly rather than through a Gram matrix: a Gram matrix subtracts squared norms, and when one update lies far
    /// from a tight cluster (the Byzantine case these strategies exist for) the cluster's distances vanish in that
    /// cancellation. Chunks of blocks are summed in a fixed order, so the result does not depend on the number of threads.
    /// </summary>
    /// <param name="inputs">N inputs, each at least <paramref name="length"/> long.</param>
    /// <param name="length">The number of coordinates to compare.</param>
    /// <returns>The N x N matrix.</returns>
    public static double[,] PairwiseSquaredDistances(IReadOnlyList<ReadOnlyMemory<float>> inputs, int length)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        int n = inputs.Count;
        var distances = new double[n, n];
        if (n < 2 || length == 0)
        {
            return distances;
        }

        foreach (ReadOnlyMemory<float> input in inputs)
        {
            if (input.Length < length)
            {
                throw new ArgumentException($"An input has {input.Length} values, fewer than the {length} compared.", nameof(inputs));
            }
        }

        int blockLength = Math.Clamp(BlockBytes / (sizeof(float) * n) / 64 * 64, 256, 16 * 1024);
        int blocks = (length + blockLength - 1) / blockLength;
        int pairs = n * (n - 1) / 2;

        // A fixed number of chunks of consecutive blocks, each summed on its own and then in chunk order: the same result
        // on any number of threads, and partial sums that stay small whatever the model size.
        int chunks = Math.Min(blocks, 64);
        var partial = new double[chunks * pairs];
        Parallel.For(0, chunks, chunk =>
        {
            Span<double> sums = partial.AsSpan(chunk * pairs, pairs);
            for (int block = chunk * blocks / chunks; block < (chunk + 1) * blocks / chunks; block++)
            {
                int start = block * blockLength;
                int count = Math.Min(blockLength, length - start);
                for (int i = 0, g = 0; i < n; i++)
                {
                    ReadOnlySpan<float> a = inputs[i].Span.Slice(start, count);
                    for (int j = i + 1; j < n; j++, g++)
                    {
                        double d = TensorPrimitives.Distance(a, inputs[j].Span.Slice(start, count));
                        sums[g] += d * d;
                    }
                }
            }
        });

        var total = new double[pairs];
        for (int chunk = 0; chunk < chunks; chunk++)
        {
            TensorPrimitives.Add(total, partial.AsSpan(chunk * pairs, pairs), total);
        }

        for (int i = 0, g = 0; i < n; i++)
        {
            for (int j = i + 1; j < n; j++, g++)
            {
                distances[i, j] = distances[j, i] = total[g];
            }
        }

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
}
