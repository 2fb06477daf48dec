using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace FederatedSharp.Aggregation.Kernels;

/// <summary>
/// Pairwise squared distances over one block of coordinates in register tiles of 4 x 4 inputs with 512-bit vectors:
/// eight loads feed sixteen pairs, each a subtraction and a fused multiply-add into its own accumulator, so the pass is
/// bound by arithmetic rather than by loads (one row against four columns needs five loads for four pairs). The pairs
/// within a group of four, and those with the inputs past the last whole group, go through the row kernels.
/// </summary>
internal static class DistanceTiles
{
    /// <summary>Whether the tiles run here: 512-bit vectors are accelerated.</summary>
    public static bool IsSupported => Vector512.IsHardwareAccelerated;

    /// <summary>The index of pair (i, j), i &lt; j, among the pairs of <paramref name="n"/> inputs listed row by row.</summary>
    public static int PairIndex(int n, int i, int j) => (i * n) - (i * (i + 1) / 2) + (j - i - 1);

    /// <summary>Adds one block's squared distances of every pair i &lt; j to <paramref name="sums"/> (row by row).</summary>
    /// <param name="inputs">The N inputs.</param>
    /// <param name="start">The block's first coordinate.</param>
    /// <param name="count">The block's length.</param>
    /// <param name="sums">N (N - 1) / 2 running sums.</param>
    public static void AddBlock(IReadOnlyList<ReadOnlyMemory<float>> inputs, int start, int count, Span<double> sums)
    {
        int n = inputs.Count;
        int groups = n / 4;
        for (int gi = 0; gi < groups; gi++)
        {
            for (int gj = gi + 1; gj < groups; gj++)
            {
                Tile(inputs, 4 * gi, 4 * gj, start, count, sums);
            }
        }

        // The pairs no tile takes, row by row, four columns at a time: within a group, and with the inputs past the last whole group.
        Span<int> rest = n <= 256 ? stackalloc int[n] : new int[n];
        Span<double> four = stackalloc double[4];
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

            ReadOnlySpan<float> a = inputs[i].Span.Slice(start, count);
            int c = 0;
            for (; c + 4 <= left; c += 4)
            {
                four.Clear();
                RobustKernels.SquaredDistancesFour(a, Slice(inputs[rest[c]], start, count), Slice(inputs[rest[c + 1]], start, count), Slice(inputs[rest[c + 2]], start, count), Slice(inputs[rest[c + 3]], start, count), four);
                for (int q = 0; q < 4; q++)
                {
                    sums[PairIndex(n, i, rest[c + q])] += four[q];
                }
            }

            for (; c < left; c++)
            {
                sums[PairIndex(n, i, rest[c])] += RobustKernels.SquaredDistance(a, Slice(inputs[rest[c]], start, count));
            }
        }
    }

    private static ReadOnlySpan<float> Slice(ReadOnlyMemory<float> input, int start, int count) => input.Span.Slice(start, count);

    /// <summary>Adds the 16 pairs of rows i0..i0+3 with columns j0..j0+3 (j0 &gt;= i0 + 4).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Tile(IReadOnlyList<ReadOnlyMemory<float>> inputs, int i0, int j0, int start, int count, Span<double> sums)
    {
        ref float a0 = ref Start(inputs[i0], start, count), a1 = ref Start(inputs[i0 + 1], start, count), a2 = ref Start(inputs[i0 + 2], start, count), a3 = ref Start(inputs[i0 + 3], start, count);
        ref float b0 = ref Start(inputs[j0], start, count), b1 = ref Start(inputs[j0 + 1], start, count), b2 = ref Start(inputs[j0 + 2], start, count), b3 = ref Start(inputs[j0 + 3], start, count);
        Vector512<float> s00 = default, s01 = default, s02 = default, s03 = default, s10 = default, s11 = default, s12 = default, s13 = default;
        Vector512<float> s20 = default, s21 = default, s22 = default, s23 = default, s30 = default, s31 = default, s32 = default, s33 = default;
        int k = 0;
        for (; k <= count - Vector512<float>.Count; k += Vector512<float>.Count)
        {
            nuint at = (nuint)k;
            Vector512<float> x0 = Vector512.LoadUnsafe(ref a0, at), x1 = Vector512.LoadUnsafe(ref a1, at), x2 = Vector512.LoadUnsafe(ref a2, at), x3 = Vector512.LoadUnsafe(ref a3, at);
            Vector512<float> y = Vector512.LoadUnsafe(ref b0, at);
            s00 = Step(x0, y, s00);
            s10 = Step(x1, y, s10);
            s20 = Step(x2, y, s20);
            s30 = Step(x3, y, s30);
            y = Vector512.LoadUnsafe(ref b1, at);
            s01 = Step(x0, y, s01);
            s11 = Step(x1, y, s11);
            s21 = Step(x2, y, s21);
            s31 = Step(x3, y, s31);
            y = Vector512.LoadUnsafe(ref b2, at);
            s02 = Step(x0, y, s02);
            s12 = Step(x1, y, s12);
            s22 = Step(x2, y, s22);
            s32 = Step(x3, y, s32);
            y = Vector512.LoadUnsafe(ref b3, at);
            s03 = Step(x0, y, s03);
            s13 = Step(x1, y, s13);
            s23 = Step(x2, y, s23);
            s33 = Step(x3, y, s33);
        }

        Span<double> tile =
        [
            Vector512.Sum(s00), Vector512.Sum(s01), Vector512.Sum(s02), Vector512.Sum(s03),
            Vector512.Sum(s10), Vector512.Sum(s11), Vector512.Sum(s12), Vector512.Sum(s13),
            Vector512.Sum(s20), Vector512.Sum(s21), Vector512.Sum(s22), Vector512.Sum(s23),
            Vector512.Sum(s30), Vector512.Sum(s31), Vector512.Sum(s32), Vector512.Sum(s33),
        ];
        int n = inputs.Count;
        for (int r = 0; r < 4; r++)
        {
            ReadOnlySpan<float> a = inputs[i0 + r].Span.Slice(start, count);
            for (int c = 0; c < 4; c++)
            {
                ReadOnlySpan<float> b = inputs[j0 + c].Span.Slice(start, count);
                double total = tile[(4 * r) + c];
                for (int t = k; t < count; t++)
                {
                    float d = a[t] - b[t];
                    total += d * d;
                }

                sums[PairIndex(n, i0 + r, j0 + c)] += total;
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Step(Vector512<float> x, Vector512<float> y, Vector512<float> sum)
    {
        Vector512<float> d = x - y;
        return Vector512.FusedMultiplyAdd(d, d, sum);
    }

    private static ref float Start(ReadOnlyMemory<float> input, int start, int count) =>
        ref MemoryMarshal.GetReference(input.Span.Slice(start, count));
}
