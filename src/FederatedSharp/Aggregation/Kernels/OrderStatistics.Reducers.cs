using System.Numerics;
using System.Runtime.Intrinsics;

namespace FederatedSharp.Aggregation.Kernels;

/// <summary>The statistics computed from the sorted ranks, per vector of lanes.</summary>
internal static partial class OrderStatistics
{
    /// <summary>(a + b) / 2 per lane, in double, rounded once to float.</summary>
    private static Vector<float> MeanOfTwo(Vector<float> a, Vector<float> b)
    {
        Vector.Widen(a, out Vector<double> aLow, out Vector<double> aHigh);
        Vector.Widen(b, out Vector<double> bLow, out Vector<double> bHigh);
        return Vector.Narrow((aLow + bLow) / 2, (aHigh + bHigh) / 2);
    }

    /// <summary>(a + b) / 2 per lane, in double, rounded once to float.</summary>
    private static Vector512<float> MeanOfTwo(Vector512<float> a, Vector512<float> b)
    {
        (Vector512<double> aLow, Vector512<double> aHigh) = Vector512.Widen(a);
        (Vector512<double> bLow, Vector512<double> bHigh) = Vector512.Widen(b);
        return Vector512.Narrow((aLow + bLow) / 2, (aHigh + bHigh) / 2);
    }

    /// <summary>The median of <paramref name="n"/> sorted wires, rank r at <c>sorted[r * stride]</c>.</summary>
    private static Vector<float> MedianOf(ReadOnlySpan<Vector<float>> sorted, int n, int stride) =>
        n % 2 == 1 ? sorted[n / 2 * stride] : MeanOfTwo(sorted[((n / 2) - 1) * stride], sorted[n / 2 * stride]);

    /// <summary>The median of <paramref name="n"/> sorted wires, rank r at <c>sorted[r * stride]</c>.</summary>
    private static Vector512<float> MedianOf(ReadOnlySpan<Vector512<float>> sorted, int n, int stride) =>
        n % 2 == 1 ? sorted[n / 2 * stride] : MeanOfTwo(sorted[((n / 2) - 1) * stride], sorted[n / 2 * stride]);

    private interface IReducer
    {
        int First { get; }

        int Last { get; }

        /// <summary>The statistic of one vector of lanes; the value of rank r is <c>sorted[r * stride]</c>.</summary>
        Vector<float> Reduce(ReadOnlySpan<Vector<float>> sorted, int stride);

        /// <summary>The same statistic, the same arithmetic per lane, over 512-bit vectors.</summary>
        Vector512<float> Reduce512(ReadOnlySpan<Vector512<float>> sorted, int stride);
    }

    private readonly struct MedianReducer(int n) : IReducer
    {
        public int First => (n - 1) / 2;

        public int Last => n / 2;

        public Vector<float> Reduce(ReadOnlySpan<Vector<float>> sorted, int stride) => MedianOf(sorted, n, stride);

        public Vector512<float> Reduce512(ReadOnlySpan<Vector512<float>> sorted, int stride) => MedianOf(sorted, n, stride);
    }

    private readonly struct TrimmedReducer(int n, int cut) : IReducer
    {
        public int First => cut;

        public int Last => n - cut - 1;

        public Vector<float> Reduce(ReadOnlySpan<Vector<float>> sorted, int stride)
        {
            Vector<double> low = Vector<double>.Zero;
            Vector<double> high = Vector<double>.Zero;
            for (int r = cut; r < n - cut; r++)
            {
                Vector.Widen(sorted[r * stride], out Vector<double> l, out Vector<double> h);
                low += l;
                high += h;
            }

            var count = new Vector<double>(n - (2 * cut));
            return Vector.Narrow(low / count, high / count);
        }

        public Vector512<float> Reduce512(ReadOnlySpan<Vector512<float>> sorted, int stride)
        {
            Vector512<double> low = Vector512<double>.Zero;
            Vector512<double> high = Vector512<double>.Zero;
            for (int r = cut; r < n - cut; r++)
            {
                (Vector512<double> l, Vector512<double> h) = Vector512.Widen(sorted[r * stride]);
                low += l;
                high += h;
            }

            Vector512<double> count = Vector512.Create((double)(n - (2 * cut)));
            return Vector512.Narrow(low / count, high / count);
        }
    }

    private readonly struct ClosestToMedianReducer(int n, int beta) : IReducer
    {
        public Vector512<float> Reduce512(ReadOnlySpan<Vector512<float>> sorted, int stride)
        {
            Vector512<float> median = MedianOf(sorted, n, stride);
            Vector512<int> windowStart = Vector512<int>.Zero;
            Vector512<int> sliding = Vector512<int>.AllBitsSet;
            for (int r = 0; r + beta < n; r++)
            {
                sliding &= Vector512.LessThan(Vector512.Abs(sorted[(r + beta) * stride] - median), Vector512.Abs(sorted[r * stride] - median)).AsInt32();
                windowStart -= sliding;
            }

            Vector512<int> windowEnd = windowStart + Vector512.Create(beta);
            Vector512<double> low = Vector512<double>.Zero;
            Vector512<double> high = Vector512<double>.Zero;
            for (int r = 0; r < n; r++)
            {
                Vector512<int> rank = Vector512.Create(r);
                Vector512<float> inside = (Vector512.GreaterThanOrEqual(rank, windowStart) & Vector512.LessThan(rank, windowEnd)).AsSingle();
                (Vector512<double> l, Vector512<double> h) = Vector512.Widen(Vector512.ConditionalSelect(inside, sorted[r * stride], Vector512<float>.Zero));
                low += l;
                high += h;
            }

            Vector512<double> count = Vector512.Create((double)beta);
            return Vector512.Narrow(low / count, high / count);
        }

        public int First => 0;

        public int Last => n - 1;

        public Vector<float> Reduce(ReadOnlySpan<Vector<float>> sorted, int stride)
        {
            Vector<float> median = MedianOf(sorted, n, stride);

            // The window of beta ranks starts at 0 and slides up while the value entering is strictly closer to the
            // median than the one leaving; distances fall then rise along the ranks, so once it stops it stays.
            Vector<int> windowStart = Vector<int>.Zero;
            Vector<int> sliding = Vector<int>.AllBitsSet;
            for (int r = 0; r + beta < n; r++)
            {
                sliding &= Vector.LessThan(Vector.Abs(sorted[(r + beta) * stride] - median), Vector.Abs(sorted[r * stride] - median));
                windowStart -= sliding;
            }

            Vector<int> windowEnd = windowStart + new Vector<int>(beta);
            Vector<double> low = Vector<double>.Zero;
            Vector<double> high = Vector<double>.Zero;
            for (int r = 0; r < n; r++)
            {
                var rank = new Vector<int>(r);
                Vector<int> inside = Vector.GreaterThanOrEqual(rank, windowStart) & Vector.LessThan(rank, windowEnd);

                // Adding +0 for a value outside the window changes no sum: the sum starts at +0 and so is never -0.
                Vector.Widen(Vector.ConditionalSelect(inside, sorted[r * stride], Vector<float>.Zero), out Vector<double> l, out Vector<double> h);
                low += l;
                high += h;
            }

            var count = new Vector<double>(beta);
            return Vector.Narrow(low / count, high / count);
        }
    }
}
