using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace FederatedSharp.Aggregation.Kernels;

/// <summary>
/// Pairwise squared distances over one block of coordinates with 512-bit vectors. The inputs form groups of four (the
/// last may hold fewer). The pairs between two groups run in register tiles of four rows against up to four columns:
/// eight loads feed sixteen pairs, each a subtraction and a fused multiply-add into its own accumulator; the pairs within
/// a group run as a triangle (four loads, six pairs). The block (in L2) is walked in sub-blocks of
/// <see cref="SubBlock"/> coordinates, which stay in L1 while every pair takes them; each pair keeps one vector of
/// per-lane sums across the whole block, in a scratch array, reduced to a double once per block, so a call costs a few
/// loads and stores of sums. While a block is computed, the first row of tiles prefetches the next block into L2: a
/// block's slices are streams too short for the hardware prefetcher.
/// </summary>
internal static unsafe class DistanceTiles
{
    /// <summary>Coordinates per sub-block: 1 KiB of each input, so 25 inputs' sub-blocks fit a 48 KiB L1 cache.</summary>
    public const int SubBlock = 256;

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
        int ahead = nextCount > 0 && Sse.IsSupported ? count : 0;
        for (int sub = 0; sub < vectors; sub += SubBlock)
        {
            int at = start + sub;
            int length = Math.Min(SubBlock, vectors - sub);
            for (int gi = 0; gi < groups; gi++)
            {
                // Within a group, its pairs from one load of each input; the first group fetches itself ahead when no tile does.
                Triangle(inputs, 4 * gi, Math.Min(4, n - (4 * gi)), at, length, lanes, gi == 0 && groups == 1 ? ahead : 0);
                for (int gj = gi + 1; gj < groups; gj++)
                {
                    // The first row of tiles reads every group but the first as columns, and the first tile the first group
                    // as rows: they fetch the same coordinates of the next block into L2 as they go.
                    int rowsAhead = gi == 0 && gj == 1 ? ahead : 0;
                    Tile(inputs, 4 * gi, 4 * gj, Math.Min(4, n - (4 * gj)), at, length, lanes, rowsAhead, gi == 0 ? ahead : 0);
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

    /// <summary>Adds the pairs of rows i0..i0+3 with <paramref name="columns"/> columns from j0 (j0 &gt;= i0 + 4) over a sub-block to their lanes.</summary>
    private static void Tile(ReadOnlySpan<nint> inputs, int i0, int j0, int columns, int at, int length, float* lanes, int rowsAhead, int columnsAhead)
    {
        bool prefetch = columnsAhead > 0;
        switch (columns)
        {
            case 1 when prefetch: Tile<C1, C1>(inputs, i0, j0, at, length, lanes, rowsAhead, columnsAhead); break;
            case 1: Tile<C1, C0>(inputs, i0, j0, at, length, lanes, 0, 0); break;
            case 2 when prefetch: Tile<C2, C1>(inputs, i0, j0, at, length, lanes, rowsAhead, columnsAhead); break;
            case 2: Tile<C2, C0>(inputs, i0, j0, at, length, lanes, 0, 0); break;
            case 3 when prefetch: Tile<C3, C1>(inputs, i0, j0, at, length, lanes, rowsAhead, columnsAhead); break;
            case 3: Tile<C3, C0>(inputs, i0, j0, at, length, lanes, 0, 0); break;
            default:
                if (prefetch)
                {
                    Tile<C4, C1>(inputs, i0, j0, at, length, lanes, rowsAhead, columnsAhead);
                }
                else
                {
                    Tile<C4, C0>(inputs, i0, j0, at, length, lanes, 0, 0);
                }

                break;
        }
    }

    /// <summary>
    /// Adds the pairs of rows i0..i0+3 with columns j0..j0+TColumns-1 over a sub-block to their lanes: four row loads and
    /// one load per column feed four pairs each.
    /// </summary>
    /// <typeparam name="TColumns">The number of columns, 1 to 4.</typeparam>
    /// <typeparam name="TPrefetch">1 to prefetch the next block's coordinates as the tile goes.</typeparam>
    /// <param name="inputs">The inputs' first elements.</param>
    /// <param name="i0">The first row.</param>
    /// <param name="j0">The first column.</param>
    /// <param name="at">The sub-block's first coordinate.</param>
    /// <param name="length">The sub-block's length, a whole number of vectors.</param>
    /// <param name="lanes">The per-lane pair sums.</param>
    /// <param name="rowsAhead">Prefetch the rows' coordinates this far ahead (0: not at all).</param>
    /// <param name="columnsAhead">Prefetch the columns' coordinates this far ahead.</param>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Tile<TColumns, TPrefetch>(ReadOnlySpan<nint> inputs, int i0, int j0, int at, int length, float* lanes, int rowsAhead, int columnsAhead)
        where TColumns : IConstant
        where TPrefetch : IConstant
    {
        int n = inputs.Length;
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
            if (TPrefetch.Value != 0)
            {
                Ahead(b0 + k, b1 + k, b2 + k, b3 + k, columnsAhead);
                if (rowsAhead > 0)
                {
                    Ahead(a0 + k, a1 + k, a2 + k, a3 + k, rowsAhead);
                }
            }

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

    /// <summary>Adds the pairs within the group of <paramref name="size"/> inputs from <paramref name="g0"/> over a sub-block to their lanes.</summary>
    private static void Triangle(ReadOnlySpan<nint> inputs, int g0, int size, int at, int length, float* lanes, int ahead)
    {
        int n = inputs.Length;
        if (size < 2)
        {
            return; // a group of one has no pairs; its input is prefetched as the first row of tiles' last column
        }

        float* a0 = (float*)inputs[g0] + at, a1 = (float*)inputs[g0 + 1] + at;
        float* a2 = size > 2 ? (float*)inputs[g0 + 2] + at : a0, a3 = size > 3 ? (float*)inputs[g0 + 3] + at : a0;
        float* l01 = Lane(lanes, n, g0, g0 + 1);
        float* l02 = size > 2 ? Lane(lanes, n, g0, g0 + 2) : l01, l12 = size > 2 ? Lane(lanes, n, g0 + 1, g0 + 2) : l01;
        float* l03 = size > 3 ? Lane(lanes, n, g0, g0 + 3) : l01, l13 = size > 3 ? Lane(lanes, n, g0 + 1, g0 + 3) : l01, l23 = size > 3 ? Lane(lanes, n, g0 + 2, g0 + 3) : l01;
        Vector512<float> s01 = Vector512.LoadAligned(l01), s02 = Vector512.LoadAligned(l02), s12 = Vector512.LoadAligned(l12);
        Vector512<float> s03 = Vector512.LoadAligned(l03), s13 = Vector512.LoadAligned(l13), s23 = Vector512.LoadAligned(l23);
        for (int k = 0; k < length; k += Vector512<float>.Count)
        {
            if (ahead > 0)
            {
                Ahead(a0 + k, a1 + k, a2 + k, a3 + k, ahead);
            }

            Vector512<float> x0 = Vector512.Load(a0 + k), x1 = Vector512.Load(a1 + k);
            s01 = Step(x0, x1, s01);
            if (size > 2)
            {
                Vector512<float> x2 = Vector512.Load(a2 + k);
                s02 = Step(x0, x2, s02);
                s12 = Step(x1, x2, s12);
                if (size > 3)
                {
                    Vector512<float> x3 = Vector512.Load(a3 + k);
                    s03 = Step(x0, x3, s03);
                    s13 = Step(x1, x3, s13);
                    s23 = Step(x2, x3, s23);
                }
            }
        }

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

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Ahead(float* p0, float* p1, float* p2, float* p3, int ahead)
    {
        Sse.Prefetch1(p0 + ahead);
        Sse.Prefetch1(p1 + ahead);
        Sse.Prefetch1(p2 + ahead);
        Sse.Prefetch1(p3 + ahead);
    }

    private static float* Lane(float* lanes, int n, int i, int j) => lanes + (PairIndex(n, i, j) * Vector512<float>.Count);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Step(Vector512<float> x, Vector512<float> y, Vector512<float> sum)
    {
        Vector512<float> d = x - y;
        return Vector512.FusedMultiplyAdd(d, d, sum);
    }
}
