using System.Collections.Concurrent;

namespace FederatedSharp.Aggregation.Kernels;

/// <summary>
/// A comparator network that sorts <see cref="Size"/> values, or only places the ranks a statistic needs. It is
/// Batcher's odd-even merge sort for the next power of two, with every comparator that touches a padding position
/// dropped (padding would hold +infinity, which no comparator moves, so those comparators do nothing), then pruned
/// backwards to the comparators whose outputs can reach a needed rank. Each comparator puts the smaller value on the
/// lower wire, so after the network wire <c>r</c> holds the value of rank <c>r</c> for every needed rank.
/// </summary>
internal sealed class SortingNetwork
{
    private static readonly ConcurrentDictionary<(int Size, int First, int Last), SortingNetwork> Cache = new();

    private SortingNetwork(int size, int[] low, int[] high)
    {
        Size = size;
        Low = low;
        High = high;
    }

    /// <summary>The number of wires (values).</summary>
    public int Size { get; }

    /// <summary>The lower wire of each comparator, in the order they run.</summary>
    public int[] Low { get; }

    /// <summary>The upper wire of each comparator.</summary>
    public int[] High { get; }

    /// <summary>The network for <paramref name="size"/> values that places ranks <paramref name="first"/> to <paramref name="last"/>.</summary>
    /// <param name="size">The number of values, at least 1.</param>
    /// <param name="first">The lowest rank needed.</param>
    /// <param name="last">The highest rank needed.</param>
    /// <returns>A shared, immutable network.</returns>
    public static SortingNetwork For(int size, int first, int last)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(size, 1);
        if (first < 0 || last >= size || first > last)
        {
            throw new ArgumentOutOfRangeException(nameof(first), $"Ranks {first}..{last} are not within 0..{size - 1}.");
        }

        return Cache.GetOrAdd((size, first, last), key => Build(key.Size, key.First, key.Last));
    }

    private static SortingNetwork Build(int size, int first, int last)
    {
        List<(int Low, int High)> comparators = OddEvenMergeSort(size);
        var needed = new bool[size];
        for (int r = first; r <= last; r++)
        {
            needed[r] = true;
        }

        // Backwards: a comparator matters when either of its outputs is needed, and then both of its inputs are.
        var kept = new List<(int Low, int High)>();
        for (int c = comparators.Count - 1; c >= 0; c--)
        {
            (int low, int high) = comparators[c];
            if (needed[low] || needed[high])
            {
                needed[low] = true;
                needed[high] = true;
                kept.Add((low, high));
            }
        }

        kept.Reverse();
        return new SortingNetwork(size, kept.Select(c => c.Low).ToArray(), kept.Select(c => c.High).ToArray());
    }

    /// <summary>Batcher's odd-even merge sort for the next power of two, without the comparators that reach past <paramref name="size"/>.</summary>
    private static List<(int Low, int High)> OddEvenMergeSort(int size)
    {
        int padded = 1;
        while (padded < size)
        {
            padded <<= 1;
        }

        var comparators = new List<(int, int)>();
        for (int p = 1; p < padded; p <<= 1)
        {
            for (int k = p; k >= 1; k >>= 1)
            {
                for (int j = k % p; j + k < padded; j += 2 * k)
                {
                    for (int i = 0; i < Math.Min(k, padded - j - k); i++)
                    {
                        int low = i + j;
                        int high = i + j + k;
                        if (low / (2 * p) == high / (2 * p) && high < size)
                        {
                            comparators.Add((low, high));
                        }
                    }
                }
            }
        }

        return comparators;
    }
}
