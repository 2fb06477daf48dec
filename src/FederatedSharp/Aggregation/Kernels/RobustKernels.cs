using System.Buffers;
using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.InteropServices;

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

        // Pooled: 150 KB at 25 inputs, a fresh large-object allocation a call cost 0.6-0.7 ms of a 3.1 ms pass here.
        double[] partial = ArrayPool<double>.Shared.Rent(chunks * pairs);
        Array.Clear(partial, 0, chunks * pairs);
        try
        {
            Sum(inputs, length, blockLength, blocks, chunks, partial);
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
        }
        finally
        {
            ArrayPool<double>.Shared.Return(partial);
        }

        return distances;
    }

    // Every chunk's pair sums into its own slice of `partial`: the 512-bit tiles where they run, else the portable blocks.
    private static void Sum(IReadOnlyList<ReadOnlyMemory<float>> inputs, int length, int blockLength, int blocks, int chunks, double[] partial)
    {
        int pairs = inputs.Count * (inputs.Count - 1) / 2;
        if (DistanceTiles.IsSupported)
        {
            TiledBlocks(inputs, length, blockLength, blocks, chunks, partial);
            return;
        }

        Parallel.For(0, chunks, chunk =>
        {
            Span<double> sums = partial.AsSpan(chunk * pairs, pairs);
            for (int block = chunk * blocks / chunks; block < (chunk + 1) * blocks / chunks; block++)
            {
                int start = block * blockLength;
                DistanceBlock(inputs, start, Math.Min(blockLength, length - start), sums);
            }
        });
    }

    // The 512-bit path: the inputs pinned for the call, each chunk with its own aligned scratch of per-lane pair sums.
    private static unsafe void TiledBlocks(IReadOnlyList<ReadOnlyMemory<float>> inputs, int length, int blockLength, int blocks, int chunks, double[] partial)
    {
        int n = inputs.Count;
        int pairs = n * (n - 1) / 2;
        var handles = new System.Buffers.MemoryHandle[n];
        var pointers = new nint[n];
        try
        {
            for (int i = 0; i < n; i++)
            {
                handles[i] = inputs[i].Pin();
                pointers[i] = (nint)handles[i].Pointer;
            }

            // One scratch a worker (up to 310 KB at 100 inputs), not one a chunk: two allocations a call instead of 64.
            Parallel.For(
                0,
                chunks,
                () => (nint)NativeMemory.AlignedAlloc((nuint)pairs * 64, 64),
                (chunk, _, scratch) =>
                {
                    Span<double> sums = partial.AsSpan(chunk * pairs, pairs);
                    for (int block = chunk * blocks / chunks; block < (chunk + 1) * blocks / chunks; block++)
                    {
                        // The next block is prefetched even past the chunk: the thread pool hands out chunks in order, so it
                        // is usually this thread's next.
                        int start = block * blockLength;
                        int next = block + 1 < blocks ? Math.Min(blockLength, length - start - blockLength) : 0;
                        DistanceTiles.AddBlock(pointers, start, Math.Min(blockLength, length - start), sums, (float*)scratch, next);
                    }

                    return scratch;
                },
                scratch => NativeMemory.AlignedFree((void*)scratch));
        }
        finally
        {
            foreach (System.Buffers.MemoryHandle handle in handles)
            {
                handle.Dispose();
            }
        }
    }

    /// <summary>Adds one block's squared distances (pairs i &lt; j, row by row) to <paramref name="sums"/>, four pairs of a row at a time.</summary>
    private static void DistanceBlock(IReadOnlyList<ReadOnlyMemory<float>> inputs, int start, int count, Span<double> sums)
    {
        int n = inputs.Count;
        for (int i = 0, g = 0; i < n; i++)
        {
            ReadOnlySpan<float> a = inputs[i].Span.Slice(start, count);
            int j = i + 1;
            for (; j + 4 <= n; j += 4, g += 4)
            {
                SquaredDistancesFour(
                    a, inputs[j].Span.Slice(start, count), inputs[j + 1].Span.Slice(start, count), inputs[j + 2].Span.Slice(start, count), inputs[j + 3].Span.Slice(start, count),
                    sums.Slice(g, 4));
            }

            for (; j < n; j++, g++)
            {
                sums[g] += SquaredDistance(a, inputs[j].Span.Slice(start, count));
            }
        }
    }

    /// <summary>
    /// Adds |a - b_k|^2 for four b to <paramref name="sums"/>: each vector of <paramref name="a"/> is loaded once for four
    /// pairs, and the four independent accumulators keep the multiply-add units busy (one accumulator would wait on its
    /// own latency every step).
    /// </summary>
    internal static void SquaredDistancesFour(ReadOnlySpan<float> a, ReadOnlySpan<float> b0, ReadOnlySpan<float> b1, ReadOnlySpan<float> b2, ReadOnlySpan<float> b3, Span<double> sums)
    {
        int length = a.Length;
        if (b0.Length != length || b1.Length != length || b2.Length != length || b3.Length != length || sums.Length != 4)
        {
            throw new ArgumentException("Buffer lengths differ.");
        }

        ref float ra = ref MemoryMarshal.GetReference(a);
        ref float r0 = ref MemoryMarshal.GetReference(b0);
        ref float r1 = ref MemoryMarshal.GetReference(b1);
        ref float r2 = ref MemoryMarshal.GetReference(b2);
        ref float r3 = ref MemoryMarshal.GetReference(b3);
        Vector<float> s0 = Vector<float>.Zero, s1 = Vector<float>.Zero, s2 = Vector<float>.Zero, s3 = Vector<float>.Zero;
        int i = 0;
        for (; i <= length - Vector<float>.Count; i += Vector<float>.Count)
        {
            nuint at = (nuint)i;
            Vector<float> x = Vector.LoadUnsafe(ref ra, at);
            Vector<float> d0 = x - Vector.LoadUnsafe(ref r0, at);
            Vector<float> d1 = x - Vector.LoadUnsafe(ref r1, at);
            Vector<float> d2 = x - Vector.LoadUnsafe(ref r2, at);
            Vector<float> d3 = x - Vector.LoadUnsafe(ref r3, at);
            s0 += d0 * d0;
            s1 += d1 * d1;
            s2 += d2 * d2;
            s3 += d3 * d3;
        }

        double t0 = Vector.Sum(s0), t1 = Vector.Sum(s1), t2 = Vector.Sum(s2), t3 = Vector.Sum(s3);
        for (; i < length; i++)
        {
            float x = a[i];
            t0 += (x - b0[i]) * (x - b0[i]);
            t1 += (x - b1[i]) * (x - b1[i]);
            t2 += (x - b2[i]) * (x - b2[i]);
            t3 += (x - b3[i]) * (x - b3[i]);
        }

        sums[0] += t0;
        sums[1] += t1;
        sums[2] += t2;
        sums[3] += t3;
    }

    /// <summary>|a - b|^2 with four independent accumulators (a single one would wait on its own latency every step).</summary>
    internal static double SquaredDistance(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        int length = a.Length;
        if (b.Length != length)
        {
            throw new ArgumentException("Buffer lengths differ.");
        }

        ref float ra = ref MemoryMarshal.GetReference(a);
        ref float rb = ref MemoryMarshal.GetReference(b);
        int width = Vector<float>.Count;
        Vector<float> s0 = Vector<float>.Zero, s1 = Vector<float>.Zero, s2 = Vector<float>.Zero, s3 = Vector<float>.Zero;
        int i = 0;
        for (; i <= length - (4 * width); i += 4 * width)
        {
            Vector<float> d0 = Vector.LoadUnsafe(ref ra, (nuint)i) - Vector.LoadUnsafe(ref rb, (nuint)i);
            Vector<float> d1 = Vector.LoadUnsafe(ref ra, (nuint)(i + width)) - Vector.LoadUnsafe(ref rb, (nuint)(i + width));
            Vector<float> d2 = Vector.LoadUnsafe(ref ra, (nuint)(i + (2 * width))) - Vector.LoadUnsafe(ref rb, (nuint)(i + (2 * width)));
            Vector<float> d3 = Vector.LoadUnsafe(ref ra, (nuint)(i + (3 * width))) - Vector.LoadUnsafe(ref rb, (nuint)(i + (3 * width)));
            s0 += d0 * d0;
            s1 += d1 * d1;
            s2 += d2 * d2;
            s3 += d3 * d3;
        }

        double total = Vector.Sum((s0 + s1) + (s2 + s3));
        for (; i < length; i++)
        {
            float d = a[i] - b[i];
            total += d * d;
        }

        return total;
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
