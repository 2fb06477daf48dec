namespace FederatedSharp.Aggregation.Kernels;

/// <summary>Runs an element-wise kernel over disjoint blocks of a buffer, in parallel when the buffer is large.</summary>
internal static class BlockParallel
{
    public static void For(int length, Action<int, int> block)
    {
        int blockLength = AggregationKernels.CacheBlockLength;
        int blocks = (length + blockLength - 1) / blockLength;
        if (length < AggregationKernels.ParallelThreshold)
        {
            for (int b = 0; b < blocks; b++)
            {
                block(b * blockLength, Math.Min(blockLength, length - (b * blockLength)));
            }

            return;
        }

        Parallel.For(0, blocks, b => block(b * blockLength, Math.Min(blockLength, length - (b * blockLength))));
    }
}
