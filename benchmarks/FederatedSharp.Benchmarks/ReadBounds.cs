using System.Numerics.Tensors;

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
    public static float Blocked(IReadOnlyList<ReadOnlyMemory<float>> inputs, int length, int blockLength = 16 * 1024)
    {
        int blocks = (length + blockLength - 1) / blockLength;
        var sums = new float[blocks];
        Parallel.For(0, blocks, b =>
        {
            int start = b * blockLength;
            int count = Math.Min(blockLength, length - start);
            float local = 0;
            foreach (ReadOnlyMemory<float> input in inputs)
            {
                local += TensorPrimitives.Sum(input.Span.Slice(start, count));
            }

            sums[b] = local;
        });
        return sums.Sum();
    }

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
}
