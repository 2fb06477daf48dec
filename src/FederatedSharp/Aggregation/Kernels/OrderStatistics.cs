using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

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
internal static partial class OrderStatistics
{
    /// <summary>Coordinates per parallel block.</summary>
    private const int BlockCoordinates = 4096;

    /// <summary>
    /// Up to this many inputs the kernel reads them in place; beyond, the hardware prefetcher loses track of that many
    /// interleaved streams, so blocks are staged. Each input is read a whole wire (two vectors) at a time, which keeps 25
    /// direct streams faster than staging (6.2 ms against 8.5 ms for the median of 25 x 1M on a Zen 5 core pair).
    /// </summary>
    private const int DirectStreams = 32;

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
            Length = Math.Max(64, 32 * 1024 / n / 64 * 64);
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

    /// <summary>Coordinates [start, end), with 512-bit vectors where they are accelerated and otherwise <see cref="Vector{T}"/>.</summary>
    private static void Block<TReducer>(float[][] sources, int[] offsets, SortingNetwork network, TReducer reducer, Span<float> destination, int start, int end)
        where TReducer : struct, IReducer
    {
        if (Vector512.IsHardwareAccelerated)
        {
            Block<TReducer, Vector512<int>, Keys512>(sources, offsets, network, reducer, destination, start, end);
        }
        else
        {
            Block<TReducer, Vector<int>, KeysVector>(sources, offsets, network, reducer, destination, start, end);
        }
    }

    /// <summary>
    /// Coordinates [start, end) a pass at a time. A pass holds the same neighbouring coordinates of every input: wire k
    /// is input k's keys, contiguous. Up to <see cref="CompiledNetwork.MaxWires"/> inputs, the wires are one vector each
    /// and the pruned network, compiled to straight-line code, sorts them in registers (<see cref="CompiledNetwork"/>).
    /// Beyond, or where no code is compiled at run time, they are two vectors each and the network runs over them in
    /// memory, each comparator a minimum and maximum of two vectors per wire, its index loads and address arithmetic
    /// shared by both.
    /// </summary>
    private static void Block<TReducer, TVector, TOps>(float[][] sources, int[] offsets, SortingNetwork network, TReducer reducer, Span<float> destination, int start, int end)
        where TReducer : struct, IReducer
        where TVector : struct
        where TOps : struct, IKeyVector<TVector>
    {
        int n = sources.Length;
        CompiledNetwork.SortKeys? compiled = CompiledNetwork.IsSupported && n <= CompiledNetwork.MaxWires
            ? CompiledNetwork.For<TVector>(network, reducer.First, reducer.Last)
            : null;
        if (compiled is not null)
        {
            start = CompiledPasses<TReducer, TVector, TOps>(sources, offsets, network, reducer, destination, start, end);
        }

        int lanes = compiled is null ? 2 * TOps.Count : TOps.Count;
        int bytes = (n * lanes * sizeof(int)) + 64;

        // Cache-line aligned: a vector split over two lines cannot be forwarded from its store to the next comparator's load.
        Span<int> keys = Aligned(bytes <= 32 * 1024 ? stackalloc byte[bytes] : GC.AllocateArray<byte>(bytes, pinned: true), n * lanes);
        int p = start;
        ref int wires = ref MemoryMarshal.GetReference(keys);
        for (; p + lanes <= end; p += lanes)
        {
            // Validated: every input holds at least destination.Length values past its offset, and p + lanes <= end.
            for (int k = 0; k < n; k++)
            {
                ref float source = ref MemoryMarshal.GetArrayDataReference(sources[k]);
                for (int q = 0; q < lanes; q += TOps.Count)
                {
                    TOps.Store(TOps.LoadKeys(ref source, (nuint)(offsets[k] + p + q)), ref wires, (nuint)((k * lanes) + q));
                }
            }

            Finish<TReducer, TVector, TOps>(keys, lanes, compiled, network, reducer, destination.Slice(p, lanes));
        }

        if (p < end)
        {
            // The tail, with its missing lanes zero and not stored, through the same code.
            int count = end - p;
            Span<float> tail = stackalloc float[lanes];
            for (int k = 0; k < n; k++)
            {
                tail.Clear();
                sources[k].AsSpan(offsets[k] + p, count).CopyTo(tail);
                FlipKeys<TVector, TOps>(MemoryMarshal.Cast<float, int>(tail), keys.Slice(k * lanes, lanes));
            }

            Finish<TReducer, TVector, TOps>(keys, lanes, compiled, network, reducer, tail);
            tail[..count].CopyTo(destination.Slice(p, count));
        }
    }

    /// <summary>
    /// The whole passes of [start, end) through the compiled network's loop (<see cref="CompiledNetwork.SortPasses"/>):
    /// the keys go from the inputs to registers, and only the needed ranks of a chunk of passes go to memory, to be
    /// reduced. Returns where the passes ended (the tail is left to the caller).
    /// </summary>
    private static int CompiledPasses<TReducer, TVector, TOps>(float[][] sources, int[] offsets, SortingNetwork network, TReducer reducer, Span<float> destination, int start, int end)
        where TReducer : struct, IReducer
        where TVector : struct
        where TOps : struct, IKeyVector<TVector>
    {
        int n = sources.Length;
        int lanes = TOps.Count;
        int passes = (end - start) / lanes;
        if (passes == 0)
        {
            return start;
        }

        CompiledNetwork.SortPasses sort = CompiledNetwork.ForPasses<TVector>(network, reducer.First, reducer.Last);
        int chunk = Math.Clamp(16 * 1024 / (n * lanes * sizeof(int)), 1, passes);
        int bytes = (chunk * n * lanes * sizeof(int)) + 64;
        Span<int> keys = Aligned(stackalloc byte[bytes], chunk * n * lanes);
        for (int done = 0; done < passes; done += chunk)
        {
            int count = Math.Min(chunk, passes - done);
            sort(sources, offsets, start + (done * lanes), count, ref MemoryMarshal.GetReference(keys));
            for (int q = 0; q < count; q++)
            {
                Reduce<TReducer, TVector, TOps>(keys.Slice(q * n * lanes, n * lanes), lanes, reducer, destination.Slice(start + ((done + q) * lanes), lanes));
            }
        }

        return start + (passes * lanes);
    }

    /// <summary>Sorts the wires, turns the needed ranks back into floats and reduces them into <paramref name="output"/>, <paramref name="lanes"/> values.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Finish<TReducer, TVector, TOps>(Span<int> keys, int lanes, CompiledNetwork.SortKeys? compiled, SortingNetwork network, TReducer reducer, Span<float> output)
        where TReducer : struct, IReducer
        where TVector : struct
        where TOps : struct, IKeyVector<TVector>
    {
        if (compiled is not null)
        {
            compiled(ref MemoryMarshal.GetReference(keys));
        }
        else
        {
            SortInMemory<TVector, TOps>(keys, network);
        }

        Reduce<TReducer, TVector, TOps>(keys, lanes, reducer, output);
    }

    /// <summary>Turns the needed ranks of sorted wires back into floats and reduces them into <paramref name="output"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Reduce<TReducer, TVector, TOps>(Span<int> keys, int lanes, TReducer reducer, Span<float> output)
        where TReducer : struct, IReducer
        where TVector : struct
        where TOps : struct, IKeyVector<TVector>
    {
        Span<int> needed = keys[(reducer.First * lanes)..((reducer.Last + 1) * lanes)];
        FlipKeys<TVector, TOps>(needed, needed);
        if (Vector512.IsHardwareAccelerated)
        {
            ReadOnlySpan<Vector512<float>> wide = MemoryMarshal.Cast<int, Vector512<float>>(keys);
            int pieces = lanes / Vector512<float>.Count;
            for (int q = 0; q < pieces; q++)
            {
                reducer.Reduce512(wide[q..], pieces).StoreUnsafe(ref MemoryMarshal.GetReference(output), (nuint)(q * Vector512<float>.Count));
            }

            return;
        }

        ReadOnlySpan<Vector<float>> wires = MemoryMarshal.Cast<int, Vector<float>>(keys);
        ref float destination = ref MemoryMarshal.GetReference(output);
        int stride = lanes / Vector<float>.Count;
        for (int q = 0; q < stride; q++)
        {
            reducer.Reduce(wires[q..], stride).StoreUnsafe(ref destination, (nuint)(q * Vector<float>.Count));
        }
    }

    /// <summary>The network over wires of two vectors each, in memory.</summary>
    private static void SortInMemory<TVector, TOps>(Span<int> keys, SortingNetwork network)
        where TVector : struct
        where TOps : struct, IKeyVector<TVector>
    {
        ref int low = ref MemoryMarshal.GetArrayDataReference(network.Low);
        ref int high = ref MemoryMarshal.GetArrayDataReference(network.High);
        ref int wires = ref MemoryMarshal.GetReference(keys);
        nuint count = (nuint)TOps.Count;
        nuint wire = 2 * count;
        int comparators = network.Low.Length;
        for (int c = 0; c < comparators; c++)
        {
            ref int a = ref Unsafe.Add(ref wires, (nuint)Unsafe.Add(ref low, c) * wire);
            ref int b = ref Unsafe.Add(ref wires, (nuint)Unsafe.Add(ref high, c) * wire);
            TVector a0 = TOps.Load(ref a, 0), a1 = TOps.Load(ref a, count), b0 = TOps.Load(ref b, 0), b1 = TOps.Load(ref b, count);
            TOps.Store(TOps.Min(a0, b0), ref a, 0);
            TOps.Store(TOps.Min(a1, b1), ref a, count);
            TOps.Store(TOps.Max(a0, b0), ref b, 0);
            TOps.Store(TOps.Max(a1, b1), ref b, count);
        }
    }

    /// <summary><paramref name="count"/> ints inside <paramref name="raw"/> (stack or pinned, 64 bytes spare) starting on a 64-byte boundary.</summary>
    private static Span<int> Aligned(Span<byte> raw, int count)
    {
        nint address = Unsafe.ByteOffset(ref Unsafe.NullRef<byte>(), ref MemoryMarshal.GetReference(raw));
        int shift = (int)((64 - (address & 63)) & 63);
        return MemoryMarshal.Cast<byte, int>(raw.Slice(shift, count * sizeof(int)));
    }

    /// <summary>
    /// Between floats' bits and their IEEE 754 total-order keys (<see cref="IKeyVector{TVector}.LoadKeys"/>): the mapping
    /// is its own inverse, so the same pass turns keys back into floats. In place allowed; lengths are whole vectors.
    /// </summary>
    private static void FlipKeys<TVector, TOps>(ReadOnlySpan<int> source, Span<int> destination)
        where TVector : struct
        where TOps : struct, IKeyVector<TVector>
    {
        ref float from = ref Unsafe.As<int, float>(ref MemoryMarshal.GetReference(source));
        ref int to = ref MemoryMarshal.GetReference(destination);
        for (int i = 0; i < source.Length; i += TOps.Count)
        {
            TOps.Store(TOps.LoadKeys(ref from, (nuint)i), ref to, (nuint)i);
        }
    }
}
