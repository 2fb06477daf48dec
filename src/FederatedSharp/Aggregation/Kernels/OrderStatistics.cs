using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace FederatedSharp.Aggregation.Kernels;

/// <summary>
/// Coordinate-wise order statistics at SIMD speed: the N inputs' values of <c>Vector&lt;float&gt;.Count</c>
/// neighbouring coordinates are loaded as N vectors and sorted across the inputs, lane by lane, by a
/// <see cref="SortingNetwork"/> of vector minimum and maximum operations, pruned to the ranks the statistic needs.
/// No coordinate is sorted on its own and nothing branches on the data. Blocks of coordinates run on all cores.
/// </summary>
/// <remarks>
/// The values are sorted as their IEEE 754 total-order keys with integer minimum and maximum (-0 sorts below +0; one
/// instruction each), two groups of lanes per pass for instruction-level parallelism, so the values at each rank, and therefore
/// every result, are bit-identical to sorting each coordinate's values with that total order and computing the same
/// statistic in the same order: the mean of the two middle values and the trimmed sum are computed in double, adding
/// the values in ascending order. Inputs must be free of NaN (the server's validation rejects such updates).
/// </remarks>
internal static class OrderStatistics
{
    /// <summary>Coordinates per parallel block.</summary>
    private const int BlockCoordinates = 4096;

    /// <summary>
    /// Up to this many inputs the kernel reads them in place; beyond, the hardware prefetcher loses track of that many
    /// interleaved streams (at 25 inputs staging doubles the speed, at 11 it costs a third), so blocks are staged.
    /// </summary>
    private const int DirectStreams = 16;

    /// <summary>Below this many values in total the work stays on the calling thread.</summary>
    private const int ParallelValues = 1 << 16;

    /// <summary>Coordinate-wise median; for an even count the mean of the two middle values, computed in double.</summary>
    /// <param name="inputs">N inputs, each at least as long as <paramref name="destination"/>.</param>
    /// <param name="destination">The output.</param>
    public static void Median(IReadOnlyList<ReadOnlyMemory<float>> inputs, Memory<float> destination)
    {
        int n = Validate(inputs, destination.Length);
        Run(inputs, destination, new MedianReducer(n));
    }

    /// <summary>Coordinate-wise trimmed mean: drop the <paramref name="cut"/> smallest and largest values, average the rest in double.</summary>
    /// <param name="inputs">N inputs, each at least as long as <paramref name="destination"/>.</param>
    /// <param name="cut">Values dropped at each end; 2 cut &lt; N.</param>
    /// <param name="destination">The output.</param>
    /// <exception cref="ArgumentOutOfRangeException">Nothing would remain.</exception>
    public static void TrimmedMean(IReadOnlyList<ReadOnlyMemory<float>> inputs, int cut, Memory<float> destination)
    {
        int n = Validate(inputs, destination.Length);
        if (cut < 0 || 2 * cut >= n)
        {
            throw new ArgumentOutOfRangeException(nameof(cut), cut, $"Trimming {cut} values at each end of {n} leaves nothing to average.");
        }

        Run(inputs, destination, new TrimmedReducer(n, cut));
    }

    /// <summary>
    /// Bulyan's coordinate-wise step: the mean of the <paramref name="beta"/> values closest to the coordinate's median.
    /// The closest values form a run of ranks; where two candidates are equally far, the smaller value is taken. The
    /// chosen values are averaged in double in ascending order.
    /// </summary>
    /// <param name="inputs">N inputs, each at least as long as <paramref name="destination"/>.</param>
    /// <param name="beta">How many values to average, 1 to N.</param>
    /// <param name="destination">The output.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="beta"/> is out of range.</exception>
    public static void ClosestToMedianMean(IReadOnlyList<ReadOnlyMemory<float>> inputs, int beta, Memory<float> destination)
    {
        int n = Validate(inputs, destination.Length);
        if (beta < 1 || beta > n)
        {
            throw new ArgumentOutOfRangeException(nameof(beta), beta, $"Averaging {beta} of {n} values is not possible.");
        }

        Run(inputs, destination, new ClosestToMedianReducer(n, beta));
    }

    private static int Validate(IReadOnlyList<ReadOnlyMemory<float>> inputs, int length)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        if (inputs.Count == 0)
        {
            throw new ArgumentException("No inputs.", nameof(inputs));
        }

        for (int k = 0; k < inputs.Count; k++)
        {
            if (inputs[k].Length < length)
            {
                throw new ArgumentException($"Input {k} has {inputs[k].Length} values, fewer than the destination's {length}.", nameof(inputs));
            }
        }

        return inputs.Count;
    }

    private static void Run<TReducer>(IReadOnlyList<ReadOnlyMemory<float>> inputs, Memory<float> destination, TReducer reducer)
        where TReducer : struct, IReducer
    {
        int n = inputs.Count;
        SortingNetwork network = SortingNetwork.For(n, reducer.First, reducer.Last);
        var sources = new float[n][];
        var offsets = new int[n];
        for (int k = 0; k < n; k++)
        {
            if (MemoryMarshal.TryGetArray(inputs[k], out ArraySegment<float> segment))
            {
                sources[k] = segment.Array!;
                offsets[k] = segment.Offset;
            }
            else
            {
                sources[k] = inputs[k].ToArray();
            }
        }

        int length = destination.Length;
        int blocks = (length + BlockCoordinates - 1) / BlockCoordinates;
        if ((long)length * n < ParallelValues)
        {
            Staging staging = Staging.ForThread(n);
            for (int b = 0; b < blocks; b++)
            {
                StagedBlock(sources, offsets, network, reducer, destination.Span, b, staging);
            }

            return;
        }

        Parallel.For(0, blocks, () => Staging.ForThread(n), (b, _, staging) =>
        {
            StagedBlock(sources, offsets, network, reducer, destination.Span, b, staging);
            return staging;
        }, _ => { });
    }

    /// <summary>
    /// One block; above <see cref="DirectStreams"/> inputs a stage at a time: each input's slice of the stage is copied
    /// into a per-thread buffer that stays in cache, so the kernel's N interleaved streams become N sequential copies.
    /// </summary>
    private static void StagedBlock<TReducer>(float[][] sources, int[] offsets, SortingNetwork network, TReducer reducer, Span<float> destination, int block, Staging staging)
        where TReducer : struct, IReducer
    {
        int start = block * BlockCoordinates;
        int end = Math.Min(destination.Length, start + BlockCoordinates);
        if (sources.Length <= DirectStreams)
        {
            Block(sources, offsets, network, reducer, destination, start, end);
            return;
        }

        for (int stage = start; stage < end; stage += staging.Length)
        {
            int count = Math.Min(staging.Length, end - stage);
            for (int k = 0; k < sources.Length; k++)
            {
                sources[k].AsSpan(offsets[k] + stage, count).CopyTo(staging.Buffer.AsSpan(k * staging.Length, count));
                staging.Offsets[k] = (k * staging.Length) - stage;
            }

            Block(staging.Rows, staging.Offsets, network, reducer, destination, stage, stage + count);
        }
    }

    /// <summary>A thread's staging buffer: one row of <see cref="Length"/> coordinates per input.</summary>
    private sealed class Staging
    {
        [ThreadStatic]
        private static Staging? _current;

        private Staging(int n)
        {
            Length = Math.Max(64, 32 * 1024 / n / 16 * 16);
            Buffer = new float[n * Length];
            Rows = Enumerable.Repeat(Buffer, n).ToArray();
            Offsets = new int[n];
        }

        public int Length { get; }

        public float[] Buffer { get; }

        public float[][] Rows { get; }

        public int[] Offsets { get; }

        /// <summary>The calling thread's buffer for <paramref name="n"/> inputs, kept between calls (one kernel at a time per thread).</summary>
        public static Staging ForThread(int n)
        {
            Staging? current = _current;
            if (current is null || current.Rows.Length != n)
            {
                _current = current = new Staging(n);
            }

            return current;
        }
    }

    private static void Block<TReducer>(float[][] sources, int[] offsets, SortingNetwork network, TReducer reducer, Span<float> destination, int start, int end)
        where TReducer : struct, IReducer
    {
        int width = Vector<float>.Count;
        int n = sources.Length;
        // Cache-line aligned: a vector split over two lines cannot be forwarded from its store to the next comparator's load.
        int bytes = (2 * n * Vector<int>.Count * sizeof(int)) + 64;
        Span<Vector<int>> keys = Aligned(n <= 128 ? stackalloc byte[bytes] : GC.AllocateArray<byte>(bytes, pinned: true), 2 * n);
        Span<Vector<float>> values = MemoryMarshal.Cast<Vector<int>, Vector<float>>(keys);
        ref float output = ref MemoryMarshal.GetReference(destination);
        int p = start;

        // Two groups of lanes at a time: every comparator does two independent minimum-maximum pairs.
        for (; p + (2 * width) <= end; p += 2 * width)
        {
            for (int k = 0; k < n; k++)
            {
                ref float source = ref MemoryMarshal.GetArrayDataReference(sources[k]);
                keys[k] = ToKey(Vector.LoadUnsafe(ref source, (nuint)(offsets[k] + p)));
                keys[n + k] = ToKey(Vector.LoadUnsafe(ref source, (nuint)(offsets[k] + p + width)));
            }

            SortTwo(keys, n, network);
            FromKeys(keys, reducer.First, reducer.Last);
            FromKeys(keys[n..], reducer.First, reducer.Last);
            reducer.Reduce(values[..n]).StoreUnsafe(ref output, (nuint)p);
            reducer.Reduce(values[n..]).StoreUnsafe(ref output, (nuint)(p + width));
        }

        Span<float> lane = stackalloc float[width];
        for (; p < end; p += width)
        {
            // The last group, or the tail with its missing lanes zero and not stored, through the same code.
            int count = Math.Min(width, end - p);
            for (int k = 0; k < n; k++)
            {
                lane.Clear();
                sources[k].AsSpan(offsets[k] + p, count).CopyTo(lane);
                keys[k] = ToKey(new Vector<float>(lane));
                keys[n + k] = keys[k];
            }

            SortTwo(keys, n, network);
            FromKeys(keys, reducer.First, reducer.Last);
            reducer.Reduce(values[..n]).CopyTo(lane);
            lane[..count].CopyTo(destination.Slice(p, count));
        }
    }

    /// <summary><paramref name="count"/> vectors inside <paramref name="raw"/> (stack or pinned, 64 bytes spare) starting on a 64-byte boundary.</summary>
    private static Span<Vector<int>> Aligned(Span<byte> raw, int count)
    {
        nint address = Unsafe.ByteOffset(ref Unsafe.NullRef<byte>(), ref MemoryMarshal.GetReference(raw));
        int shift = (int)((64 - (address & 63)) & 63);
        return MemoryMarshal.Cast<byte, Vector<int>>(raw.Slice(shift, count * Vector<int>.Count * sizeof(int)));
    }

    /// <summary>
    /// The float's IEEE 754 total-order key as a signed integer (the magnitude bits of negative values flipped), so one
    /// integer minimum or maximum instruction compares as the total order does, -0 below +0. Its own inverse.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector<int> ToKey(Vector<float> value)
    {
        Vector<int> bits = Vector.AsVectorInt32(value);
        return bits ^ (Vector.ShiftRightArithmetic(bits, 31) & new Vector<int>(int.MaxValue));
    }

    /// <summary>Turns the keys of ranks <paramref name="first"/> to <paramref name="last"/> back into floats, in place.</summary>
    private static void FromKeys(Span<Vector<int>> keys, int first, int last)
    {
        for (int r = first; r <= last; r++)
        {
            Vector<int> key = keys[r];
            keys[r] = key ^ (Vector.ShiftRightArithmetic(key, 31) & new Vector<int>(int.MaxValue));
        }
    }

    /// <summary>Runs the network on two groups of wires at once: [0, n) and [n, 2n).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void SortTwo(Span<Vector<int>> keys, int n, SortingNetwork network)
    {
        ref int low = ref MemoryMarshal.GetArrayDataReference(network.Low);
        ref int high = ref MemoryMarshal.GetArrayDataReference(network.High);
        ref Vector<int> first = ref MemoryMarshal.GetReference(keys);
        ref Vector<int> second = ref Unsafe.Add(ref first, n);
        int comparators = network.Low.Length;
        for (int c = 0; c < comparators; c++)
        {
            int i = Unsafe.Add(ref low, c);
            int j = Unsafe.Add(ref high, c);
            ref Vector<int> a = ref Unsafe.Add(ref first, i);
            ref Vector<int> b = ref Unsafe.Add(ref first, j);
            ref Vector<int> x = ref Unsafe.Add(ref second, i);
            ref Vector<int> y = ref Unsafe.Add(ref second, j);
            Vector<int> va = a, vb = b, vx = x, vy = y;
            a = Vector.Min(va, vb);
            b = Vector.Max(va, vb);
            x = Vector.Min(vx, vy);
            y = Vector.Max(vx, vy);
        }
    }

    /// <summary>(a + b) / 2 per lane, in double, rounded once to float.</summary>
    private static Vector<float> MeanOfTwo(Vector<float> a, Vector<float> b)
    {
        Vector.Widen(a, out Vector<double> aLow, out Vector<double> aHigh);
        Vector.Widen(b, out Vector<double> bLow, out Vector<double> bHigh);
        return Vector.Narrow((aLow + bLow) / 2, (aHigh + bHigh) / 2);
    }

    private static Vector<float> MedianOf(ReadOnlySpan<Vector<float>> sorted) =>
        sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : MeanOfTwo(sorted[(sorted.Length / 2) - 1], sorted[sorted.Length / 2]);

    private interface IReducer
    {
        int First { get; }

        int Last { get; }

        Vector<float> Reduce(ReadOnlySpan<Vector<float>> sorted);
    }

    private readonly struct MedianReducer(int n) : IReducer
    {
        public int First => (n - 1) / 2;

        public int Last => n / 2;

        public Vector<float> Reduce(ReadOnlySpan<Vector<float>> sorted) => MedianOf(sorted);
    }

    private readonly struct TrimmedReducer(int n, int cut) : IReducer
    {
        public int First => cut;

        public int Last => n - cut - 1;

        public Vector<float> Reduce(ReadOnlySpan<Vector<float>> sorted)
        {
            Vector<double> low = Vector<double>.Zero;
            Vector<double> high = Vector<double>.Zero;
            for (int r = cut; r < n - cut; r++)
            {
                Vector.Widen(sorted[r], out Vector<double> l, out Vector<double> h);
                low += l;
                high += h;
            }

            var count = new Vector<double>(n - (2 * cut));
            return Vector.Narrow(low / count, high / count);
        }
    }

    private readonly struct ClosestToMedianReducer(int n, int beta) : IReducer
    {
        public int First => 0;

        public int Last => n - 1;

        public Vector<float> Reduce(ReadOnlySpan<Vector<float>> sorted)
        {
            Vector<float> median = MedianOf(sorted);

            // The window of beta ranks starts at 0 and slides up while the value entering is strictly closer to the
            // median than the one leaving; distances fall then rise along the ranks, so once it stops it stays.
            Vector<int> windowStart = Vector<int>.Zero;
            Vector<int> sliding = Vector<int>.AllBitsSet;
            for (int r = 0; r + beta < n; r++)
            {
                sliding &= Vector.LessThan(Vector.Abs(sorted[r + beta] - median), Vector.Abs(sorted[r] - median));
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
                Vector.Widen(Vector.ConditionalSelect(inside, sorted[r], Vector<float>.Zero), out Vector<double> l, out Vector<double> h);
                low += l;
                high += h;
            }

            var count = new Vector<double>(beta);
            return Vector.Narrow(low / count, high / count);
        }
    }
}
