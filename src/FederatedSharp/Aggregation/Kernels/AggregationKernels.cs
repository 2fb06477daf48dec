using System.Numerics.Tensors;

namespace FederatedSharp.Aggregation.Kernels;

/// <summary>
/// The SIMD kernels aggregators share, applied to blocks of the buffer, in parallel over blocks when the buffer is
/// large: <see cref="TensorPrimitives"/> (which dispatches 512/256/128-bit vectors and handles the tail) for single
/// inputs, <see cref="WeightedGroups"/> for the weighted sum of many. Blocks are disjoint and every element's
/// arithmetic is the same whatever the split, so results do not depend on the number of threads.
/// </summary>
internal static class AggregationKernels
{
    /// <summary>Elements per parallel block (256 KiB of floats: fits L2 with the matching input block).</summary>
    public const int BlockLength = 64 * 1024;

    /// <summary>Buffers shorter than this run on the calling thread.</summary>
    public const int ParallelThreshold = 4 * BlockLength;

    /// <summary><c>accumulator[i] += weight * values[i]</c> (a multiply, then an add: not fused, so every path gives the same bits).</summary>
    /// <param name="values">The client's values.</param>
    /// <param name="weight">The client's weight.</param>
    /// <param name="accumulator">The running weighted sum; same length as <paramref name="values"/>.</param>
    /// <exception cref="ArgumentException">The lengths differ.</exception>
    public static void MultiplyAdd(ReadOnlyMemory<float> values, float weight, Memory<float> accumulator)
    {
        ThrowIfLengthsDiffer(values.Length, accumulator.Length);
        if (values.Length < ParallelThreshold)
        {
            TensorPrimitives.MultiplyAdd(values.Span, weight, accumulator.Span, accumulator.Span);
            return;
        }

        int blocks = (values.Length + BlockLength - 1) / BlockLength;
        Parallel.For(0, blocks, block =>
        {
            int start = block * BlockLength;
            int length = Math.Min(BlockLength, values.Length - start);
            Span<float> acc = accumulator.Span.Slice(start, length);
            TensorPrimitives.MultiplyAdd(values.Span.Slice(start, length), weight, acc, acc);
        });
    }

    /// <summary>
    /// Sums at least this long (8 MiB) are written with non-temporal stores, unless a finisher reads the block
    /// afterwards: far larger than the caches, the sum would be evicted before the next pass or the caller read it, and
    /// the stores save reading every destination line from memory before overwriting it.
    /// </summary>
    public const int NonTemporalThreshold = 2 * 1024 * 1024;

    /// <summary>Elements per cache block of <see cref="WeightedSum"/> (64 KiB of floats: the block and one input block stay in L2).</summary>
    public const int CacheBlockLength = 16 * 1024;

    /// <summary>
    /// <c>accumulator[i] += sum_k weights[k] * inputs[k][i]</c>, cache-blocked: for each block of the accumulator every
    /// input is added while the block is in cache, so the accumulator crosses the memory bus once instead of once per
    /// input; up to 16 inputs are added in registers in one pass (<see cref="WeightedGroups"/>). Blocks run in parallel.
    /// Per element the inputs are added in list order, exactly as repeated <see cref="MultiplyAdd"/> calls would, so both
    /// paths give bit-identical results.
    /// </summary>
    /// <param name="inputs">The inputs, each as long as <paramref name="accumulator"/>.</param>
    /// <param name="weights">One weight per input.</param>
    /// <param name="accumulator">The running sum.</param>
    /// <param name="overwrite">Treat the accumulator as zero without reading it (saves clearing it first).</param>
    /// <param name="scale">Multiply each block by this once its inputs are in (a final pass that divides by the total weight); 1 for none.</param>
    /// <param name="finish">Run on each block after the scaling, while it is in cache (a server optimiser's step); null for none.</param>
    /// <exception cref="ArgumentException">A length differs.</exception>
    public static void WeightedSum(
        IReadOnlyList<ReadOnlyMemory<float>> inputs, ReadOnlySpan<float> weights, Memory<float> accumulator, bool overwrite = false, float scale = 1, BlockFinisher? finish = null)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        if (inputs.Count != weights.Length)
        {
            throw new ArgumentException($"{inputs.Count} inputs but {weights.Length} weights.");
        }

        foreach (ReadOnlyMemory<float> input in inputs)
        {
            ThrowIfLengthsDiffer(input.Length, accumulator.Length);
        }

        float[] w = weights.ToArray();
        int length = accumulator.Length;
        int blocks = (length + CacheBlockLength - 1) / CacheBlockLength;
        if (length < ParallelThreshold)
        {
            for (int block = 0; block < blocks; block++)
            {
                AccumulateBlock(inputs, w, accumulator, block, overwrite, scale, finish);
            }

            return;
        }

        Parallel.For(0, blocks, block => AccumulateBlock(inputs, w, accumulator, block, overwrite, scale, finish));
    }

    private static void AccumulateBlock(IReadOnlyList<ReadOnlyMemory<float>> inputs, float[] weights, Memory<float> accumulator, int block, bool overwrite, float scale, BlockFinisher? finish)
    {
        int start = block * CacheBlockLength;
        Span<float> acc = accumulator.Span.Slice(start, Math.Min(CacheBlockLength, accumulator.Length - start));
        if (inputs.Count == 0)
        {
            if (overwrite)
            {
                acc.Clear();
            }

            if (scale != 1)
            {
                TensorPrimitives.Multiply(acc, scale, acc);
            }
        }

        // Groups of inputs per pass over the block, added in registers: the first group of a fresh sum writes without
        // reading, the last scales before its store, so the block is stored once per group. The last group's stores
        // bypass the caches when the sum is large: it will not be read again before it would have been evicted.
        for (int k = 0; k < inputs.Count;)
        {
            int group = WeightedGroups.NextGroup(inputs.Count - k);
            bool last = k + group == inputs.Count;
            bool nonTemporal = last && finish is null && accumulator.Length >= NonTemporalThreshold;
            WeightedGroups.Add(inputs, weights, k, group, start, acc, load: k > 0 || !overwrite, last ? scale : 1, nonTemporal);
            k += group;
        }

        finish?.Invoke(start, acc);
    }

    /// <summary><c>destination[i] = source[i] * factor</c>.</summary>
    /// <param name="source">The input.</param>
    /// <param name="factor">The factor.</param>
    /// <param name="destination">The output; same length as <paramref name="source"/> (may be the same buffer).</param>
    /// <exception cref="ArgumentException">The lengths differ.</exception>
    public static void Scale(ReadOnlyMemory<float> source, float factor, Memory<float> destination)
    {
        ThrowIfLengthsDiffer(source.Length, destination.Length);
        if (source.Length < ParallelThreshold)
        {
            TensorPrimitives.Multiply(source.Span, factor, destination.Span);
            return;
        }

        int blocks = (source.Length + BlockLength - 1) / BlockLength;
        Parallel.For(0, blocks, block =>
        {
            int start = block * BlockLength;
            int length = Math.Min(BlockLength, source.Length - start);
            TensorPrimitives.Multiply(source.Span.Slice(start, length), factor, destination.Span.Slice(start, length));
        });
    }

    /// <summary>Whether every value is finite (no NaN, no infinity).</summary>
    /// <param name="values">The values.</param>
    /// <param name="firstBadIndex">The index of the first non-finite value, or -1.</param>
    /// <returns>Whether all values are finite.</returns>
    public static bool AllFinite(ReadOnlySpan<float> values, out int firstBadIndex)
    {
        if (TensorPrimitives.IsFiniteAll(values))
        {
            firstBadIndex = -1;
            return true;
        }

        for (int i = 0; i < values.Length; i++)
        {
            if (!float.IsFinite(values[i]))
            {
                firstBadIndex = i;
                return false;
            }
        }

        firstBadIndex = -1;
        return true;
    }

    private static void ThrowIfLengthsDiffer(int a, int b)
    {
        if (a != b)
        {
            throw new ArgumentException($"Buffer lengths differ: {a} and {b}.");
        }
    }
}
