using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace FederatedSharp.Aggregation.Kernels;

/// <summary>
/// Pairwise squared distances over one block of coordinates with 512-bit vectors. The block (in L2) is walked in
/// sub-blocks of <see cref="SubBlock"/> coordinates, which stay in L1 while every pair takes them; each pair keeps one
/// vector of per-lane sums across the whole block, in a scratch array, and is reduced to a double once per block. Pairs
/// run in register tiles of 4 x 4 inputs: eight loads feed sixteen pairs, each a subtraction and a fused multiply-add
/// into its own accumulator. The pairs within a group of four, and those with the inputs past the last whole group, go
/// four columns at a time against a row. Reading from L1 instead of L2 lets the tiles run at the arithmetic units'
/// pace; keeping the sums in lanes across sub-blocks keeps the per-call cost (sixteen loads and stores) small.
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
        int groups = n / 4;
        Span<int> rest = n <= 256 ? stackalloc int[n] : new int[n];
        int ahead = nextCount > 0 && Sse.IsSupported ? count : 0;
        for (int sub = 0; sub < vectors; sub += SubBlock)
        {
            int at = start + sub;
            int length = Math.Min(SubBlock, vectors - sub);
            for (int gi = 0; gi < groups; gi++)
            {
                for (int gj = gi + 1; gj < groups; gj++)
                {
                    // The first row of tiles reads every group but the first as columns, and the first tile the first group
                    // as rows: they fetch the same coordinates of the next block into L2 as they go.
                    if (ahead > 0 && gi == 0)
                    {
                        Tile<C1>(inputs, 4 * gi, 4 * gj, at, length, lanes, gj == 1 ? ahead : 0, ahead);
                    }
                    else
                    {
                        Tile<C0>(inputs, 4 * gi, 4 * gj, at, length, lanes, 0, 0);
                    }
                }
            }

            // The pairs no tile takes, row by row, four columns at a time: within a group, and with the inputs past the last whole group.
            for (int i = 0; i < n; i++)
            {
                int left = 0;
                for (int j = i + 1; j < n; j++)
                {
                    if (j >= 4 * groups || i / 4 == j / 4)
                    {
                        rest[left++] = j;
                    }
                }

                Row(inputs, i, rest[..left], at, length, lanes, i == 0 || (i >= 4 * groups && groups > 0) ? ahead : 0);
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

    /// <summary>Adds the 16 pairs of rows i0..i0+3 with columns j0..j0+3 (j0 &gt;= i0 + 4) over a sub-block to their lanes.</summary>
    /// <typeparam name="TPrefetch">1 to prefetch the next block's coordinates as the tile goes.</typeparam>
    /// <param name="inputs">The inputs' first elements.</param>
    /// <param name="i0">The first row.</param>
    /// <param name="j0">The first column.</param>
    /// <param name="at">The sub-block's first coordinate.</param>
    /// <param name="length">The sub-block's length, a whole number of vectors.</param>
    /// <param name="lanes">The per-lane pair sums.</param>
    /// <param name="rowsAhead">Prefetch the rows' coordinates this far ahead (0: not at all).</param>
    /// <param name="columnsAhead">Prefetch the columns' coordinates this far ahead (0: not at all).</param>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Tile<TPrefetch>(ReadOnlySpan<nint> inputs, int i0, int j0, int at, int length, float* lanes, int rowsAhead, int columnsAhead)
        where TPrefetch : IConstant
    {
        int n = inputs.Length;
        float* a0 = (float*)inputs[i0] + at, a1 = (float*)inputs[i0 + 1] + at, a2 = (float*)inputs[i0 + 2] + at, a3 = (float*)inputs[i0 + 3] + at;
        float* b0 = (float*)inputs[j0] + at, b1 = (float*)inputs[j0 + 1] + at, b2 = (float*)inputs[j0 + 2] + at, b3 = (float*)inputs[j0 + 3] + at;

        // Row r's four pairs (i0 + r, j0..j0 + 3) are consecutive in the pair order.
        float* l0 = lanes + (PairIndex(n, i0, j0) * Vector512<float>.Count), l1 = lanes + (PairIndex(n, i0 + 1, j0) * Vector512<float>.Count);
        float* l2 = lanes + (PairIndex(n, i0 + 2, j0) * Vector512<float>.Count), l3 = lanes + (PairIndex(n, i0 + 3, j0) * Vector512<float>.Count);
        const int V = 16;
        Vector512<float> s00 = Vector512.LoadAligned(l0), s01 = Vector512.LoadAligned(l0 + V), s02 = Vector512.LoadAligned(l0 + (2 * V)), s03 = Vector512.LoadAligned(l0 + (3 * V));
        Vector512<float> s10 = Vector512.LoadAligned(l1), s11 = Vector512.LoadAligned(l1 + V), s12 = Vector512.LoadAligned(l1 + (2 * V)), s13 = Vector512.LoadAligned(l1 + (3 * V));
        Vector512<float> s20 = Vector512.LoadAligned(l2), s21 = Vector512.LoadAligned(l2 + V), s22 = Vector512.LoadAligned(l2 + (2 * V)), s23 = Vector512.LoadAligned(l2 + (3 * V));
        Vector512<float> s30 = Vector512.LoadAligned(l3), s31 = Vector512.LoadAligned(l3 + V), s32 = Vector512.LoadAligned(l3 + (2 * V)), s33 = Vector512.LoadAligned(l3 + (3 * V));
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
            y = Vector512.Load(b1 + k);
            s01 = Step(x0, y, s01);
            s11 = Step(x1, y, s11);
            s21 = Step(x2, y, s21);
            s31 = Step(x3, y, s31);
            y = Vector512.Load(b2 + k);
            s02 = Step(x0, y, s02);
            s12 = Step(x1, y, s12);
            s22 = Step(x2, y, s22);
            s32 = Step(x3, y, s32);
            y = Vector512.Load(b3 + k);
            s03 = Step(x0, y, s03);
            s13 = Step(x1, y, s13);
            s23 = Step(x2, y, s23);
            s33 = Step(x3, y, s33);
        }

        Vector512.StoreAligned(s00, l0);
        Vector512.StoreAligned(s01, l0 + V);
        Vector512.StoreAligned(s02, l0 + (2 * V));
        Vector512.StoreAligned(s03, l0 + (3 * V));
        Vector512.StoreAligned(s10, l1);
        Vector512.StoreAligned(s11, l1 + V);
        Vector512.StoreAligned(s12, l1 + (2 * V));
        Vector512.StoreAligned(s13, l1 + (3 * V));
        Vector512.StoreAligned(s20, l2);
        Vector512.StoreAligned(s21, l2 + V);
        Vector512.StoreAligned(s22, l2 + (2 * V));
        Vector512.StoreAligned(s23, l2 + (3 * V));
        Vector512.StoreAligned(s30, l3);
        Vector512.StoreAligned(s31, l3 + V);
        Vector512.StoreAligned(s32, l3 + (2 * V));
        Vector512.StoreAligned(s33, l3 + (3 * V));
    }

    /// <summary>Adds the pairs of row <paramref name="i"/> with each of <paramref name="columns"/> over a sub-block to their lanes, four columns at a time.</summary>
    private static void Row(ReadOnlySpan<nint> inputs, int i, ReadOnlySpan<int> columns, int at, int length, float* lanes, int ahead)
    {
        int n = inputs.Length;
        float* a = (float*)inputs[i] + at;
        if (ahead > 0)
        {
            // This row fetches its own and its columns' coordinates of the next block (the inputs no first-row tile reads).
            for (int k = 0; k < length; k += Vector512<float>.Count)
            {
                Sse.Prefetch1(a + k + ahead);
                foreach (int j in columns)
                {
                    Sse.Prefetch1((float*)inputs[j] + at + k + ahead);
                }
            }
        }

        int c = 0;
        for (; c + 4 <= columns.Length; c += 4)
        {
            float* l0 = Lane(lanes, n, i, columns[c]), l1 = Lane(lanes, n, i, columns[c + 1]), l2 = Lane(lanes, n, i, columns[c + 2]), l3 = Lane(lanes, n, i, columns[c + 3]);
            float* b0 = (float*)inputs[columns[c]] + at, b1 = (float*)inputs[columns[c + 1]] + at, b2 = (float*)inputs[columns[c + 2]] + at, b3 = (float*)inputs[columns[c + 3]] + at;
            Vector512<float> s0 = Vector512.LoadAligned(l0), s1 = Vector512.LoadAligned(l1), s2 = Vector512.LoadAligned(l2), s3 = Vector512.LoadAligned(l3);
            for (int k = 0; k < length; k += Vector512<float>.Count)
            {
                Vector512<float> x = Vector512.Load(a + k);
                s0 = Step(x, Vector512.Load(b0 + k), s0);
                s1 = Step(x, Vector512.Load(b1 + k), s1);
                s2 = Step(x, Vector512.Load(b2 + k), s2);
                s3 = Step(x, Vector512.Load(b3 + k), s3);
            }

            Vector512.StoreAligned(s0, l0);
            Vector512.StoreAligned(s1, l1);
            Vector512.StoreAligned(s2, l2);
            Vector512.StoreAligned(s3, l3);
        }

        for (; c < columns.Length; c++)
        {
            float* l = Lane(lanes, n, i, columns[c]);
            float* b = (float*)inputs[columns[c]] + at;
            Vector512<float> s = Vector512.LoadAligned(l), t = Vector512<float>.Zero;
            int k = 0;
            for (; k + (2 * Vector512<float>.Count) <= length; k += 2 * Vector512<float>.Count)
            {
                s = Step(Vector512.Load(a + k), Vector512.Load(b + k), s);
                t = Step(Vector512.Load(a + k + Vector512<float>.Count), Vector512.Load(b + k + Vector512<float>.Count), t);
            }

            for (; k < length; k += Vector512<float>.Count)
            {
                s = Step(Vector512.Load(a + k), Vector512.Load(b + k), s);
            }

            Vector512.StoreAligned(s + t, l);
        }
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
