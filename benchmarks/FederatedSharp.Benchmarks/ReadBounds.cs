using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

/// <summary>
/// Honest read-only passes over N inputs on all cores, the candidates for the memory bound: a benchmark's bound is the
/// fastest of them in the same run. Each sums every value once and writes nothing but a few partial sums.
/// </summary>
internal static class ReadBounds
{
    /// <summary>A: input by input, each split in one contiguous part per core (the prefetcher's best case per stream).</summary>
    public static float PerInputSplit(IReadOnlyList<ReadOnlyMemory<float>> inputs)
    {
        int parts = Environment.ProcessorCount;
        var sums = new float[parts];
        float total = 0;
        foreach (ReadOnlyMemory<float> values in inputs)
        {
            Parallel.For(0, parts, p =>
            {
                int start = (int)((long)values.Length * p / parts);
                int end = (int)((long)values.Length * (p + 1) / parts);
                sums[p] = TensorPrimitives.Sum(values.Span[start..end]);
            });
            total += sums.Sum();
        }

        return total;
    }

    /// <summary>B: blocks of coordinates, every input's slice of a block in turn (the access pattern of the cache-blocked kernels).</summary>
    public static float Blocked(IReadOnlyList<ReadOnlyMemory<float>> inputs, int length, int blockLength = 16 * 1024) =>
        OverBlocks(length, blockLength, (start, count) =>
        {
            float local = 0;
            foreach (ReadOnlyMemory<float> input in inputs)
            {
                local += TensorPrimitives.Sum(input.Span.Slice(start, count));
            }

            return local;
        });

    /// <summary>C: whole inputs shared out among the cores, each input read start to end by one core.</summary>
    public static float InputsAcrossCores(IReadOnlyList<ReadOnlyMemory<float>> inputs)
    {
        var sums = new float[inputs.Count];
        Parallel.For(0, inputs.Count, new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount }, k => sums[k] = TensorPrimitives.Sum(inputs[k].Span));
        return sums.Sum();
    }

    /// <summary>D: one contiguous range of coordinates per core, each streaming every input over its range in 256 KiB strides.</summary>
    public static float RangePerCore(IReadOnlyList<ReadOnlyMemory<float>> inputs, int length)
    {
        int parts = Environment.ProcessorCount;
        var sums = new float[parts];
        Parallel.For(0, parts, p =>
        {
            int start = (int)((long)length * p / parts);
            int end = (int)((long)length * (p + 1) / parts);
            float local = 0;
            for (int s = start; s < end; s += 64 * 1024)
            {
                int count = Math.Min(64 * 1024, end - s);
                foreach (ReadOnlyMemory<float> input in inputs)
                {
                    local += TensorPrimitives.Sum(input.Span.Slice(s, count));
                }
            }

            sums[p] = local;
        });
        return sums.Sum();
    }

    /// <summary>
    /// E: blocks of coordinates, the inputs read four at a time, interleaved (the loads of the linear kernels' passes
    /// without their stores): four streams in flight per core keep more reads outstanding than one, which is what a
    /// machine whose single stream cannot saturate memory needs.
    /// </summary>
    public static float Interleaved(IReadOnlyList<ReadOnlyMemory<float>> inputs, int length, int blockLength = 16 * 1024) =>
        OverBlocks(length, blockLength, (start, count) =>
        {
            float local = 0;
            int k = 0;
            for (; k + 4 <= inputs.Count; k += 4)
            {
                local += SumFour(inputs[k].Span.Slice(start, count), inputs[k + 1].Span.Slice(start, count), inputs[k + 2].Span.Slice(start, count), inputs[k + 3].Span.Slice(start, count));
            }

            for (; k < inputs.Count; k++)
            {
                local += TensorPrimitives.Sum(inputs[k].Span.Slice(start, count));
            }

            return local;
        });

    // Blocks of coordinates in parallel, each summed by `block(start, count)`.
    private static float OverBlocks(int length, int blockLength, Func<int, int, float> block)
    {
        int blocks = (length + blockLength - 1) / blockLength;
        var sums = new float[blocks];
        Parallel.For(0, blocks, b =>
        {
            int start = b * blockLength;
            sums[b] = block(start, Math.Min(blockLength, length - start));
        });
        return sums.Sum();
    }

    private static float SumFour(ReadOnlySpan<float> x0, ReadOnlySpan<float> x1, ReadOnlySpan<float> x2, ReadOnlySpan<float> x3)
    {
        ref float r0 = ref MemoryMarshal.GetReference(x0), r1 = ref MemoryMarshal.GetReference(x1), r2 = ref MemoryMarshal.GetReference(x2), r3 = ref MemoryMarshal.GetReference(x3);
        int i = 0;
        float total = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            Vector512<float> s0 = default, s1 = default;
            for (; i <= x0.Length - Vector512<float>.Count; i += Vector512<float>.Count)
            {
                nuint n = (nuint)i;
                s0 += Vector512.LoadUnsafe(ref r0, n) + Vector512.LoadUnsafe(ref r1, n);
                s1 += Vector512.LoadUnsafe(ref r2, n) + Vector512.LoadUnsafe(ref r3, n);
            }

            total = Vector512.Sum(s0 + s1);
        }
        else
        {
            Vector<float> s0 = default, s1 = default;
            for (; i <= x0.Length - Vector<float>.Count; i += Vector<float>.Count)
            {
                nuint n = (nuint)i;
                s0 += Vector.LoadUnsafe(ref r0, n) + Vector.LoadUnsafe(ref r1, n);
                s1 += Vector.LoadUnsafe(ref r2, n) + Vector.LoadUnsafe(ref r3, n);
            }

            total = Vector.Sum(s0 + s1);
        }

        for (; i < x0.Length; i++)
        {
            total += x0[i] + x1[i] + x2[i] + x3[i];
        }

        return total;
    }
}
