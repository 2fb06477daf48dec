namespace FederatedSharp.Simulation;

/// <summary>Splits sample indices into equal-sized random partitions (IID): a seeded shuffle dealt out round-robin.</summary>
public static class IidPartitioner
{
    /// <summary>Partitions <c>0..sampleCount-1</c> among <paramref name="clientCount"/> clients.</summary>
    /// <param name="sampleCount">Number of samples.</param>
    /// <param name="clientCount">Number of clients.</param>
    /// <param name="seed">The seed.</param>
    /// <returns>For each client, its sample indices (sizes differ by at most one).</returns>
    /// <exception cref="ArgumentOutOfRangeException">A count is out of range.</exception>
    public static IReadOnlyList<int[]> Partition(int sampleCount, int clientCount, ulong seed)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(sampleCount);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(clientCount);
        int[] indices = Enumerable.Range(0, sampleCount).ToArray();
        new DeterministicRandom(seed).ShuffleInPlace(indices.AsSpan());
        var parts = new int[clientCount][];
        for (int c = 0; c < clientCount; c++)
        {
            int start = (int)((long)sampleCount * c / clientCount);
            int end = (int)((long)sampleCount * (c + 1) / clientCount);
            parts[c] = indices[start..end];
            Array.Sort(parts[c]);
        }

        return parts;
    }
}
