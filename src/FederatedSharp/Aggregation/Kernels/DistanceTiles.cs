using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace FederatedSharp.Aggregation.Kernels;

/// <summary>
/// Pairwise squared distances over one block of coordinates with 512-bit vectors. The inputs form groups of four (the
/// last may hold fewer). The pairs between two groups run in register tiles of four rows against up to four columns:
/// eight loads feed sixteen pairs, each a subtraction and a fused multiply-add into its own accumulator; the pairs within
/// a group run as a triangle (four loads, six pairs), and a lone last column as a 4 x 1 tile; the triangles and lone
/// columns take two steps at a time into two sets of sums, so their few chains of fused multiply-adds do not wait on
/// the instruction's latency. The block (in L2) is walked in sub-blocks of <see cref="SubBlock"/> coordinates: a row
/// group's sub-block stays in L1 while every column group passes it. Each pair keeps one vector of per-lane sums across
/// the block, in a scratch array, reduced to a double once per block. While a block is computed, every tile and
/// triangle fetches a share of the next block into L2, a line per step: a block's slices are streams too short for the
/// hardware prefetcher, and spreading the fetches over the block's arithmetic keeps them from arriving in one burst.
/// </summary>
internal static unsafe partial class DistanceTiles
{
    /// <summary>
    /// Coordinates per sub-block (5 KiB of each input): a row group's 20 KiB stays in a 48 KiB L1 cache while the column
    /// groups stream past it from L2. Measured against 256, 512 and 2,560 on one core with the block in L2, it was the
    /// fastest; shorter sub-blocks pay each tile's loads and stores of sums more often.
    /// </summary>
    public const int SubBlock = 1280;

    /// <summary>Whether the tiles run here: 512-bit vectors are accelerated.</summary>
    public static bool IsSupported => Vector512.IsHardwareAccelerated;

    /// <summary>The index of pair (i, j), i &lt; j, among the pairs of <paramref name="n"/> inputs listed row by row.</summary>
    public static int PairIndex(int n, int i, int j) => (i * n) - (i * (i + 1) / 2) + (j - i - 1);

    /// <summary>Adds one block's squared distances of every pair i &lt; j to <paramref name="sums"/> (row by row).</summary>
    /// <param name="inputs">The N inputs' first elements (pinned).</param>
    /// <param name="start">The block's first coordinate.</param>
    /// <param name="count">The block's length.</param>
    /// <param name="sums">N (N - 1) / 2 running sums.</param>
    /// <param name="lanes">Scratch of at least 16 floats per pair, 64-byte aligned.</param>
    /// <param name="nextCount">The length of the block that follows (prefetched while this one is computed), or 0.</param>
    public static void AddBlock(ReadOnlySpan<nint> inputs, int start, int count, Span<double> sums, float* lanes, int nextCount)
    {
        int n = inputs.Length;
        int pairs = n * (n - 1) / 2;
        new Span<float>(lanes, pairs * Vector512<float>.Count).Clear();
        int vectors = count - (count % Vector512<float>.Count);
        int groups = (n + 3) / 4; // the last may hold fewer than four
        int calls = Calls(n);
        bool ahead = nextCount > 0 && Sse.IsSupported;
        fixed (nint* pointers = inputs)
        {
            for (int sub = 0; sub < vectors; sub += SubBlock)
            {
                var pass = new Pass(pointers, n, lanes, start + sub, Math.Min(SubBlock, vectors - sub));
                int call = 0;
                for (int gi = 0; gi < groups; gi++)
                {
                    int size = Math.Min(4, n - (4 * gi));
                    if (size > 1)
                    {
                        var fetch = ahead ? new Fetch(inputs, call++, calls, pass.At + count) : default;
                        Triangle(in pass, 4 * gi, size, in fetch);
                    }

                    for (int gj = gi + 1; gj < groups; gj++)
                    {
                        var fetch = ahead ? new Fetch(inputs, call++, calls, pass.At + count) : default;
                        Tile(in pass, 4 * gi, 4 * gj, Math.Min(4, n - (4 * gj)), in fetch);
                    }
                }
            }
        }

        for (int p = 0; p < pairs; p++)
        {
            sums[p] += Vector512.Sum(Vector512.LoadAligned(lanes + (p * Vector512<float>.Count)));
        }

        // The last few coordinates of a block that is not a whole number of vectors, pair by pair.
        for (int i = 0; i < n; i++)
        {
            float* a = (float*)inputs[i];
            for (int j = i + 1; j < n; j++)
            {
                float* b = (float*)inputs[j];
                double total = 0;
                for (int t = start + vectors; t < start + count; t++)
                {
                    float d = a[t] - b[t];
                    total += d * d;
                }

                sums[PairIndex(n, i, j)] += total;
            }
        }
    }

    /// <summary>The number of tiles and triangles that take one sub-block of <paramref name="n"/> inputs.</summary>
    private static int Calls(int n)
    {
        int groups = (n + 3) / 4;
        int triangles = n % 4 == 1 ? groups - 1 : groups; // a group of one has no pairs
        return triangles + (groups * (groups - 1) / 2);
    }

    /// <summary>Adds the pairs of rows i0..i0+3 with <paramref name="columns"/> columns from j0 (j0 &gt;= i0 + 4) over a sub-block to their lanes.</summary>
    private static void Tile(in Pass pass, int i0, int j0, int columns, in Fetch fetch)
    {
        switch (columns)
        {
            case 1: Column(in pass, i0, j0, in fetch); break;
            case 2: Tile<C2>(in pass, i0, j0, in fetch); break;
            case 3: Tile<C3>(in pass, i0, j0, in fetch); break;
            default: Tile<C4>(in pass, i0, j0, in fetch); break;
        }
    }

    private static void Tile<TColumns>(in Pass pass, int i0, int j0, in Fetch fetch)
        where TColumns : IConstant
    {
        switch (fetch.Count)
        {
            case 0: Tile<TColumns, C0>(in pass, i0, j0, in fetch); break;
            case 2: Tile<TColumns, C2>(in pass, i0, j0, in fetch); break;
            default: Tile<TColumns, C4>(in pass, i0, j0, in fetch); break;
        }
    }

    /// <summary>
    /// Adds the pairs of rows i0..i0+3 with columns j0..j0+TColumns-1 over a sub-block to their lanes: four row loads and
    /// one load per column feed four pairs each.
    /// </summary>
    /// <typeparam name="TColumns">The number of columns, 2 to 4 (a lone column runs in <see cref="Column{TFetch}"/>).</typeparam>
    /// <typeparam name="TFetch">How many next-block lines each step fetches: 0, 2 or 4.</typeparam>
    /// <param name="pass">The sub-block.</param>
    /// <param name="i0">The first row.</param>
    /// <param name="j0">The first column.</param>
    /// <param name="fetch">The next block's lines to fetch as the tile goes.</param>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Tile<TColumns, TFetch>(in Pass pass, int i0, int j0, in Fetch fetch)
        where TColumns : IConstant
        where TFetch : IConstant
    {
        nint* inputs = pass.Inputs;
        int n = pass.N, at = pass.At, length = pass.Length;
        float* lanes = pass.Lanes;
        float* f0 = fetch.P0, f1 = fetch.P1, f2 = fetch.P2, f3 = fetch.P3;
        int c = TColumns.Value;
        float* a0 = (float*)inputs[i0] + at, a1 = (float*)inputs[i0 + 1] + at, a2 = (float*)inputs[i0 + 2] + at, a3 = (float*)inputs[i0 + 3] + at;
        float* b0 = (float*)inputs[j0] + at;
        float* b1 = c > 1 ? (float*)inputs[j0 + 1] + at : b0, b2 = c > 2 ? (float*)inputs[j0 + 2] + at : b0, b3 = c > 3 ? (float*)inputs[j0 + 3] + at : b0;

        // Row r's pairs (i0 + r, j0..j0 + c - 1) are consecutive in the pair order.
        float* l0 = Lane(lanes, n, i0, j0), l1 = Lane(lanes, n, i0 + 1, j0), l2 = Lane(lanes, n, i0 + 2, j0), l3 = Lane(lanes, n, i0 + 3, j0);
        const int V = 16;
        Vector512<float> s00 = Vector512.LoadAligned(l0), s10 = Vector512.LoadAligned(l1), s20 = Vector512.LoadAligned(l2), s30 = Vector512.LoadAligned(l3);
        Vector512<float> s01 = default, s11 = default, s21 = default, s31 = default, s02 = default, s12 = default, s22 = default, s32 = default;
        Vector512<float> s03 = default, s13 = default, s23 = default, s33 = default;
        if (c > 1)
        {
            s01 = Vector512.LoadAligned(l0 + V);
            s11 = Vector512.LoadAligned(l1 + V);
            s21 = Vector512.LoadAligned(l2 + V);
            s31 = Vector512.LoadAligned(l3 + V);
        }

        if (c > 2)
        {
            s02 = Vector512.LoadAligned(l0 + (2 * V));
            s12 = Vector512.LoadAligned(l1 + (2 * V));
            s22 = Vector512.LoadAligned(l2 + (2 * V));
            s32 = Vector512.LoadAligned(l3 + (2 * V));
        }

        if (c > 3)
        {
            s03 = Vector512.LoadAligned(l0 + (3 * V));
            s13 = Vector512.LoadAligned(l1 + (3 * V));
            s23 = Vector512.LoadAligned(l2 + (3 * V));
            s33 = Vector512.LoadAligned(l3 + (3 * V));
        }

        for (int k = 0; k < length; k += V)
        {
            Ahead<TFetch>(f0, f1, f2, f3, k);

            Vector512<float> x0 = Vector512.Load(a0 + k), x1 = Vector512.Load(a1 + k), x2 = Vector512.Load(a2 + k), x3 = Vector512.Load(a3 + k);
            Vector512<float> y = Vector512.Load(b0 + k);
            s00 = Step(x0, y, s00);
            s10 = Step(x1, y, s10);
            s20 = Step(x2, y, s20);
            s30 = Step(x3, y, s30);
            if (c > 1)
            {
                y = Vector512.Load(b1 + k);
                s01 = Step(x0, y, s01);
                s11 = Step(x1, y, s11);
                s21 = Step(x2, y, s21);
                s31 = Step(x3, y, s31);
            }

            if (c > 2)
            {
                y = Vector512.Load(b2 + k);
                s02 = Step(x0, y, s02);
                s12 = Step(x1, y, s12);
                s22 = Step(x2, y, s22);
                s32 = Step(x3, y, s32);
            }

            if (c > 3)
            {
                y = Vector512.Load(b3 + k);
                s03 = Step(x0, y, s03);
                s13 = Step(x1, y, s13);
                s23 = Step(x2, y, s23);
                s33 = Step(x3, y, s33);
            }
        }

        Store4(s00, s10, s20, s30, l0, l1, l2, l3, 0);
        if (c > 1)
        {
            Store4(s01, s11, s21, s31, l0, l1, l2, l3, V);
        }

        if (c > 2)
        {
            Store4(s02, s12, s22, s32, l0, l1, l2, l3, 2 * V);
        }

        if (c > 3)
        {
            Store4(s03, s13, s23, s33, l0, l1, l2, l3, 3 * V);
        }
    }

    /// <summary>Adds the pairs of rows i0..i0+3 with the one column j0 over a sub-block to their lanes.</summary>
    private static void Column(in Pass pass, int i0, int j0, in Fetch fetch)
    {
        switch (fetch.Count)
        {
            case 0: Column<C0>(in pass, i0, j0, in fetch); break;
            case 2: Column<C2>(in pass, i0, j0, in fetch); break;
            default: Column<C4>(in pass, i0, j0, in fetch); break;
        }
    }

    /// <summary>
    /// Adds the pairs of rows i0..i0+3 with the one column j0 over a sub-block to their lanes, two steps at a time into
    /// two sets of sums: one set's four chains of fused multiply-adds would wait on their latency.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Column<TFetch>(in Pass pass, int i0, int j0, in Fetch fetch)
        where TFetch : IConstant
    {
        nint* inputs = pass.Inputs;
        int n = pass.N, at = pass.At, length = pass.Length;
        float* lanes = pass.Lanes;
        float* f0 = fetch.P0, f1 = fetch.P1, f2 = fetch.P2, f3 = fetch.P3;
        float* a0 = (float*)inputs[i0] + at, a1 = (float*)inputs[i0 + 1] + at, a2 = (float*)inputs[i0 + 2] + at, a3 = (float*)inputs[i0 + 3] + at;
        float* b = (float*)inputs[j0] + at;
        float* l0 = Lane(lanes, n, i0, j0), l1 = Lane(lanes, n, i0 + 1, j0), l2 = Lane(lanes, n, i0 + 2, j0), l3 = Lane(lanes, n, i0 + 3, j0);
        Vector512<float> s0 = Vector512.LoadAligned(l0), s1 = Vector512.LoadAligned(l1), s2 = Vector512.LoadAligned(l2), s3 = Vector512.LoadAligned(l3);
        Vector512<float> t0 = default, t1 = default, t2 = default, t3 = default;
        const int V = 16;
        int k = 0;
        for (; k + V < length; k += 2 * V)
        {
            Ahead<TFetch>(f0, f1, f2, f3, k);
            Ahead<TFetch>(f0, f1, f2, f3, k + V);
            Vector512<float> y = Vector512.Load(b + k), z = Vector512.Load(b + k + V);
            s0 = Step(Vector512.Load(a0 + k), y, s0);
            s1 = Step(Vector512.Load(a1 + k), y, s1);
            s2 = Step(Vector512.Load(a2 + k), y, s2);
            s3 = Step(Vector512.Load(a3 + k), y, s3);
            t0 = Step(Vector512.Load(a0 + k + V), z, t0);
            t1 = Step(Vector512.Load(a1 + k + V), z, t1);
            t2 = Step(Vector512.Load(a2 + k + V), z, t2);
            t3 = Step(Vector512.Load(a3 + k + V), z, t3);
        }

        if (k < length)
        {
            Ahead<TFetch>(f0, f1, f2, f3, k);
            Vector512<float> y = Vector512.Load(b + k);
            t0 = Step(Vector512.Load(a0 + k), y, t0);
            t1 = Step(Vector512.Load(a1 + k), y, t1);
            t2 = Step(Vector512.Load(a2 + k), y, t2);
            t3 = Step(Vector512.Load(a3 + k), y, t3);
        }

        Store4(s0 + t0, s1 + t1, s2 + t2, s3 + t3, l0, l1, l2, l3, 0);
    }

    /// <summary>Adds the pairs within the group of <paramref name="size"/> inputs from <paramref name="g0"/> over a sub-block to their lanes.</summary>
    private static void Triangle(in Pass pass, int g0, int size, in Fetch fetch)
    {
        switch (fetch.Count)
        {
            case 0: Triangle<C0>(in pass, g0, size, in fetch); break;
            case 2: Triangle<C2>(in pass, g0, size, in fetch); break;
            default: Triangle<C4>(in pass, g0, size, in fetch); break;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Triangle<TFetch>(in Pass pass, int g0, int size, in Fetch fetch)
        where TFetch : IConstant
    {
        nint* inputs = pass.Inputs;
        int n = pass.N, at = pass.At, length = pass.Length;
        float* lanes = pass.Lanes;
        float* f0 = fetch.P0, f1 = fetch.P1, f2 = fetch.P2, f3 = fetch.P3;

        float* a0 = (float*)inputs[g0] + at, a1 = (float*)inputs[g0 + 1] + at;
        float* a2 = size > 2 ? (float*)inputs[g0 + 2] + at : a0, a3 = size > 3 ? (float*)inputs[g0 + 3] + at : a0;
        float* l01 = Lane(lanes, n, g0, g0 + 1);
        float* l02 = size > 2 ? Lane(lanes, n, g0, g0 + 2) : l01, l12 = size > 2 ? Lane(lanes, n, g0 + 1, g0 + 2) : l01;
        float* l03 = size > 3 ? Lane(lanes, n, g0, g0 + 3) : l01, l13 = size > 3 ? Lane(lanes, n, g0 + 1, g0 + 3) : l01, l23 = size > 3 ? Lane(lanes, n, g0 + 2, g0 + 3) : l01;
        Vector512<float> s01 = Vector512.LoadAligned(l01), s02 = Vector512.LoadAligned(l02), s12 = Vector512.LoadAligned(l12);
        Vector512<float> s03 = Vector512.LoadAligned(l03), s13 = Vector512.LoadAligned(l13), s23 = Vector512.LoadAligned(l23);

        // Two steps at a time into two sets of sums: one set's six chains of fused multiply-adds would wait on their latency.
        Vector512<float> t01 = default, t02 = default, t12 = default, t03 = default, t13 = default, t23 = default;
        const int V = 16;
        int k = 0;
        for (; k + V < length; k += 2 * V)
        {
            Ahead<TFetch>(f0, f1, f2, f3, k);
            Ahead<TFetch>(f0, f1, f2, f3, k + V);
            Vector512<float> x0 = Vector512.Load(a0 + k), x1 = Vector512.Load(a1 + k);
            Vector512<float> y0 = Vector512.Load(a0 + k + V), y1 = Vector512.Load(a1 + k + V);
            s01 = Step(x0, x1, s01);
            t01 = Step(y0, y1, t01);
            if (size > 2)
            {
                Vector512<float> x2 = Vector512.Load(a2 + k), y2 = Vector512.Load(a2 + k + V);
                s02 = Step(x0, x2, s02);
                s12 = Step(x1, x2, s12);
                t02 = Step(y0, y2, t02);
                t12 = Step(y1, y2, t12);
                if (size > 3)
                {
                    Vector512<float> x3 = Vector512.Load(a3 + k), y3 = Vector512.Load(a3 + k + V);
                    s03 = Step(x0, x3, s03);
                    s13 = Step(x1, x3, s13);
                    s23 = Step(x2, x3, s23);
                    t03 = Step(y0, y3, t03);
                    t13 = Step(y1, y3, t13);
                    t23 = Step(y2, y3, t23);
                }
            }
        }

        if (k < length)
        {
            // An odd last step: the second set takes it (it starts from zero, so its sums need no other order).
            Ahead<TFetch>(f0, f1, f2, f3, k);
            Vector512<float> x0 = Vector512.Load(a0 + k), x1 = Vector512.Load(a1 + k);
            t01 = Step(x0, x1, t01);
            if (size > 2)
            {
                Vector512<float> x2 = Vector512.Load(a2 + k);
                t02 = Step(x0, x2, t02);
                t12 = Step(x1, x2, t12);
                if (size > 3)
                {
                    Vector512<float> x3 = Vector512.Load(a3 + k);
                    t03 = Step(x0, x3, t03);
                    t13 = Step(x1, x3, t13);
                    t23 = Step(x2, x3, t23);
                }
            }
        }

        s01 += t01;
        s02 += t02;
        s12 += t12;
        s03 += t03;
        s13 += t13;
        s23 += t23;

        // Unused slots alias the first pair's lanes: store them first, so the real sums land last.
        Vector512.StoreAligned(s23, l23);
        Vector512.StoreAligned(s13, l13);
        Vector512.StoreAligned(s03, l03);
        Vector512.StoreAligned(s12, l12);
        Vector512.StoreAligned(s02, l02);
        Vector512.StoreAligned(s01, l01);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store4(Vector512<float> s0, Vector512<float> s1, Vector512<float> s2, Vector512<float> s3, float* l0, float* l1, float* l2, float* l3, int offset)
    {
        Vector512.StoreAligned(s0, l0 + offset);
        Vector512.StoreAligned(s1, l1 + offset);
        Vector512.StoreAligned(s2, l2 + offset);
        Vector512.StoreAligned(s3, l3 + offset);
    }

    private static float* Lane(float* lanes, int n, int i, int j) => lanes + (PairIndex(n, i, j) * Vector512<float>.Count);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Step(Vector512<float> x, Vector512<float> y, Vector512<float> sum)
    {
        Vector512<float> d = x - y;
        return Vector512.FusedMultiplyAdd(d, d, sum);
    }
}
