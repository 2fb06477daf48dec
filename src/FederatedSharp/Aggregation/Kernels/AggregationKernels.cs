using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Numerics.Tensors;

namespace FederatedSharp.Aggregation.Kernels;

/// <summary>
/// The SIMD kernels aggregators share. Each is <see cref="TensorPrimitives"/> (which dispatches 512/256/128-bit
/// vectors and handles the tail) applied to blocks of the buffer, in parallel over blocks when the buffer is large.
/// Blocks are disjoint and every element's arithmetic is the same whatever the split, so results do not depend on
/// the number of threads.
/// </summary>
internal static class AggregationKernels
{
    /// <summary>Elements per parallel block (256 KiB of floats: fits L2 with the matching input block).</summary>
    public const int BlockLength = 64 * 1024;

    /// <summary>Buffers shorter than this run on the calling thread.</summary>
    public const int ParallelThreshold = 4 * BlockLength;

    /// <summary><c>accumulator[i] += weight * values[i]</c> (fused multiply-add where the hardware has it).</summary>
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

    /// <summary>Elements per cache block of <see cref="WeightedSum"/> (64 KiB of floats: the block and one input block stay in L2).</summary>
    public const int CacheBlockLength = 16 * 1024;

    /// <summary>
    /// <c>accumulator[i] += sum_k weights[k] * inputs[k][i]</c>, cache-blocked: for each block of the accumulator every
    /// input is added while the block is in cache, so the accumulator crosses the memory bus once instead of once per
    /// input. Blocks run in parallel. Per element the inputs are added in list order, exactly as repeated
    /// <see cref="MultiplyAdd"/> calls would, so both paths give bit-identical results.
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
        AccumulateBlock(inputs, weights, accumulator, block, overwrite);
        if (scale == 1 && finish is null)
        {
            return;
        }

        int start = block * CacheBlockLength;
        Span<float> acc = accumulator.Span.Slice(start, Math.Min(CacheBlockLength, accumulator.Length - start));
        if (scale != 1)
        {
            TensorPrimitives.Multiply(acc, scale, acc);
        }

        finish?.Invoke(start, acc);
    }

    private static void AccumulateBlock(IReadOnlyList<ReadOnlyMemory<float>> inputs, float[] weights, Memory<float> accumulator, int block, bool overwrite)
    {
        int start = block * CacheBlockLength;
        int count = Math.Min(CacheBlockLength, accumulator.Length - start);
        Span<float> acc = accumulator.Span.Slice(start, count);
        int k = 0;
        if (overwrite)
        {
            if (inputs.Count == 0)
            {
                acc.Clear();
                return;
            }

            TensorPrimitives.Multiply(inputs[0].Span.Slice(start, count), weights[0], acc);
            k = 1;
        }

        // Eight inputs per pass over the block where 512-bit vectors run, else four: the accumulator is loaded and stored
        // once per group instead of once per input, and the group's inputs stream in together. Per element the
        // operations are those of successive MultiplyAdd calls, in order.
        for (; Vector512.IsHardwareAccelerated && k + 8 <= inputs.Count; k += 8)
        {
            AddEight(inputs, weights, k, start, count, acc);
        }

        for (; k + 4 <= inputs.Count; k += 4)
        {
            AddFour(
                inputs[k].Span.Slice(start, count), weights[k],
                inputs[k + 1].Span.Slice(start, count), weights[k + 1],
                inputs[k + 2].Span.Slice(start, count), weights[k + 2],
                inputs[k + 3].Span.Slice(start, count), weights[k + 3],
                acc);
        }

        for (; k < inputs.Count; k++)
        {
            TensorPrimitives.MultiplyAdd(inputs[k].Span.Slice(start, count), weights[k], acc, acc);
        }
    }

    /// <summary><c>acc[i] = (((acc[i] + w0 x0[i]) + w1 x1[i]) + w2 x2[i]) + w3 x3[i]</c>, vectorised 512/256/128 bits with a scalar tail.</summary>
    internal static void AddFour(
        ReadOnlySpan<float> x0, float w0, ReadOnlySpan<float> x1, float w1, ReadOnlySpan<float> x2, float w2, ReadOnlySpan<float> x3, float w3, Span<float> acc)
    {
        int length = acc.Length;
        if (x0.Length != length || x1.Length != length || x2.Length != length || x3.Length != length)
        {
            throw new ArgumentException("Buffer lengths differ.");
        }

        ref float a = ref MemoryMarshal.GetReference(acc);
        ref float r0 = ref MemoryMarshal.GetReference(x0);
        ref float r1 = ref MemoryMarshal.GetReference(x1);
        ref float r2 = ref MemoryMarshal.GetReference(x2);
        ref float r3 = ref MemoryMarshal.GetReference(x3);
        int i = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            Vector512<float> v0 = Vector512.Create(w0), v1 = Vector512.Create(w1), v2 = Vector512.Create(w2), v3 = Vector512.Create(w3);
            for (; i <= length - Vector512<float>.Count; i += Vector512<float>.Count)
            {
                nuint n = (nuint)i;
                Vector512<float> sum = Vector512.LoadUnsafe(ref a, n) + (Vector512.LoadUnsafe(ref r0, n) * v0);
                sum += Vector512.LoadUnsafe(ref r1, n) * v1;
                sum += Vector512.LoadUnsafe(ref r2, n) * v2;
                sum += Vector512.LoadUnsafe(ref r3, n) * v3;
                sum.StoreUnsafe(ref a, n);
            }
        }
        else if (Vector256.IsHardwareAccelerated)
        {
            Vector256<float> v0 = Vector256.Create(w0), v1 = Vector256.Create(w1), v2 = Vector256.Create(w2), v3 = Vector256.Create(w3);
            for (; i <= length - Vector256<float>.Count; i += Vector256<float>.Count)
            {
                nuint n = (nuint)i;
                Vector256<float> sum = Vector256.LoadUnsafe(ref a, n) + (Vector256.LoadUnsafe(ref r0, n) * v0);
                sum += Vector256.LoadUnsafe(ref r1, n) * v1;
                sum += Vector256.LoadUnsafe(ref r2, n) * v2;
                sum += Vector256.LoadUnsafe(ref r3, n) * v3;
                sum.StoreUnsafe(ref a, n);
            }
        }
        else if (Vector128.IsHardwareAccelerated)
        {
            Vector128<float> v0 = Vector128.Create(w0), v1 = Vector128.Create(w1), v2 = Vector128.Create(w2), v3 = Vector128.Create(w3);
            for (; i <= length - Vector128<float>.Count; i += Vector128<float>.Count)
            {
                nuint n = (nuint)i;
                Vector128<float> sum = Vector128.LoadUnsafe(ref a, n) + (Vector128.LoadUnsafe(ref r0, n) * v0);
                sum += Vector128.LoadUnsafe(ref r1, n) * v1;
                sum += Vector128.LoadUnsafe(ref r2, n) * v2;
                sum += Vector128.LoadUnsafe(ref r3, n) * v3;
                sum.StoreUnsafe(ref a, n);
            }
        }

        for (; i < length; i++)
        {
            float sum = acc[i] + (x0[i] * w0);
            sum += x1[i] * w1;
            sum += x2[i] * w2;
            sum += x3[i] * w3;
            acc[i] = sum;
        }
    }

    /// <summary>
    /// <c>acc[i] = ((acc[i] + w_k x_k[i]) + w_k+1 x_k+1[i]) ... + w_k+7 x_k+7[i]</c> over a block with 512-bit vectors (the
    /// tail through <see cref="AddFour"/> twice, the same operations per element).
    /// </summary>
    private static void AddEight(IReadOnlyList<ReadOnlyMemory<float>> inputs, float[] weights, int k, int start, int count, Span<float> acc)
    {
        ref float a = ref MemoryMarshal.GetReference(acc);
        ref float r0 = ref MemoryMarshal.GetReference(inputs[k].Span.Slice(start, count)), r1 = ref MemoryMarshal.GetReference(inputs[k + 1].Span.Slice(start, count));
        ref float r2 = ref MemoryMarshal.GetReference(inputs[k + 2].Span.Slice(start, count)), r3 = ref MemoryMarshal.GetReference(inputs[k + 3].Span.Slice(start, count));
        ref float r4 = ref MemoryMarshal.GetReference(inputs[k + 4].Span.Slice(start, count)), r5 = ref MemoryMarshal.GetReference(inputs[k + 5].Span.Slice(start, count));
        ref float r6 = ref MemoryMarshal.GetReference(inputs[k + 6].Span.Slice(start, count)), r7 = ref MemoryMarshal.GetReference(inputs[k + 7].Span.Slice(start, count));
        Vector512<float> v0 = Vector512.Create(weights[k]), v1 = Vector512.Create(weights[k + 1]), v2 = Vector512.Create(weights[k + 2]), v3 = Vector512.Create(weights[k + 3]);
        Vector512<float> v4 = Vector512.Create(weights[k + 4]), v5 = Vector512.Create(weights[k + 5]), v6 = Vector512.Create(weights[k + 6]), v7 = Vector512.Create(weights[k + 7]);
        int i = 0;
        for (; i <= count - Vector512<float>.Count; i += Vector512<float>.Count)
        {
            nuint n = (nuint)i;
            Vector512<float> sum = Vector512.LoadUnsafe(ref a, n) + (Vector512.LoadUnsafe(ref r0, n) * v0);
            sum += Vector512.LoadUnsafe(ref r1, n) * v1;
            sum += Vector512.LoadUnsafe(ref r2, n) * v2;
            sum += Vector512.LoadUnsafe(ref r3, n) * v3;
            sum += Vector512.LoadUnsafe(ref r4, n) * v4;
            sum += Vector512.LoadUnsafe(ref r5, n) * v5;
            sum += Vector512.LoadUnsafe(ref r6, n) * v6;
            sum += Vector512.LoadUnsafe(ref r7, n) * v7;
            sum.StoreUnsafe(ref a, n);
        }

        if (i < count)
        {
            Span<float> tail = acc[i..];
            int rest = count - i;
            AddFour(
                inputs[k].Span.Slice(start + i, rest), weights[k], inputs[k + 1].Span.Slice(start + i, rest), weights[k + 1],
                inputs[k + 2].Span.Slice(start + i, rest), weights[k + 2], inputs[k + 3].Span.Slice(start + i, rest), weights[k + 3], tail);
            AddFour(
                inputs[k + 4].Span.Slice(start + i, rest), weights[k + 4], inputs[k + 5].Span.Slice(start + i, rest), weights[k + 5],
                inputs[k + 6].Span.Slice(start + i, rest), weights[k + 6], inputs[k + 7].Span.Slice(start + i, rest), weights[k + 7], tail);
        }
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
