using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace FederatedSharp.Aggregation.Kernels;

/// <summary>
/// One pass of a weighted sum over a cache block: a group of up to <see cref="MaxGroup"/> inputs added to the
/// accumulator in registers, in order, then stored once. The first group of a fresh sum does not read the accumulator,
/// and the last group of a final pass scales before its store, so a round of up to sixteen updates is one read of each
/// and one write of the mean. A final write that will not be read soon can bypass the caches (non-temporal
/// stores), which saves reading the destination's lines from memory before overwriting them. Per element the operations
/// are those of <c>acc = acc + w x</c> for each input in order, then <c>acc * scale</c>: the grouping never changes a bit.
/// </summary>
internal static class WeightedGroups
{
    /// <summary>Inputs per pass at most: all of them when no more than this remain.</summary>
    public const int MaxGroup = 16;

    /// <summary>Inputs per pass when more than <see cref="MaxGroup"/> remain.</summary>
    public const int StreamingGroup = 8;

    /// <summary>
    /// The size of the next group when <paramref name="remaining"/> inputs are left: all of them up to
    /// <see cref="MaxGroup"/> (one pass, no second trip of the block through the cache), else
    /// <see cref="StreamingGroup"/>. Measured here in one process against each other: one pass of 10 inputs is 7% faster
    /// than two of 5, and with 100 inputs passes of 8 are 3-6% faster than passes of 16 (whose 16 block pointers no
    /// longer fit the x64 registers).
    /// </summary>
    public static int NextGroup(int remaining) => remaining <= MaxGroup ? remaining : StreamingGroup;

    /// <summary>
    /// <c>acc[i] = (load ? acc[i] : 0) + sum over the group of w_k x_k[start + i]</c> in input order, times
    /// <paramref name="scale"/> when it is not 1.
    /// </summary>
    /// <param name="inputs">All inputs.</param>
    /// <param name="weights">All weights.</param>
    /// <param name="first">The group's first input.</param>
    /// <param name="count">The group's size, 1 to <see cref="MaxGroup"/>.</param>
    /// <param name="start">The block's first coordinate in each input.</param>
    /// <param name="acc">The accumulator's block.</param>
    /// <param name="load">Add to the accumulator (false: overwrite it without reading it).</param>
    /// <param name="scale">The factor applied before the store; 1 for none.</param>
    /// <param name="nonTemporal">Store bypassing the caches (the block is not read again soon); fenced before returning.</param>
    public static void Add(
        IReadOnlyList<ReadOnlyMemory<float>> inputs, float[] weights, int first, int count, int start, Span<float> acc, bool load, float scale, bool nonTemporal)
    {
        if (count is < 1 or > MaxGroup)
        {
            throw new ArgumentOutOfRangeException(nameof(count), count, $"A group holds 1 to {MaxGroup} inputs.");
        }

        int length = acc.Length;
        var group = new InputGroup(length, scale);
        group.R0 = ref Input(inputs, first, start, length);
        group.R1 = ref count > 1 ? ref Input(inputs, first + 1, start, length) : ref group.R0;
        group.R2 = ref count > 2 ? ref Input(inputs, first + 2, start, length) : ref group.R0;
        group.R3 = ref count > 3 ? ref Input(inputs, first + 3, start, length) : ref group.R0;
        group.R4 = ref count > 4 ? ref Input(inputs, first + 4, start, length) : ref group.R0;
        group.R5 = ref count > 5 ? ref Input(inputs, first + 5, start, length) : ref group.R0;
        group.R6 = ref count > 6 ? ref Input(inputs, first + 6, start, length) : ref group.R0;
        group.R7 = ref count > 7 ? ref Input(inputs, first + 7, start, length) : ref group.R0;
        group.R8 = ref count > 8 ? ref Input(inputs, first + 8, start, length) : ref group.R0;
        group.R9 = ref count > 9 ? ref Input(inputs, first + 9, start, length) : ref group.R0;
        group.R10 = ref count > 10 ? ref Input(inputs, first + 10, start, length) : ref group.R0;
        group.R11 = ref count > 11 ? ref Input(inputs, first + 11, start, length) : ref group.R0;
        group.R12 = ref count > 12 ? ref Input(inputs, first + 12, start, length) : ref group.R0;
        group.R13 = ref count > 13 ? ref Input(inputs, first + 13, start, length) : ref group.R0;
        group.R14 = ref count > 14 ? ref Input(inputs, first + 14, start, length) : ref group.R0;
        group.R15 = ref count > 15 ? ref Input(inputs, first + 15, start, length) : ref group.R0;
        ReadOnlySpan<float> w = weights.AsSpan(first, count);
        group.W0 = w[0];
        group.W1 = count > 1 ? w[1] : 0;
        group.W2 = count > 2 ? w[2] : 0;
        group.W3 = count > 3 ? w[3] : 0;
        group.W4 = count > 4 ? w[4] : 0;
        group.W5 = count > 5 ? w[5] : 0;
        group.W6 = count > 6 ? w[6] : 0;
        group.W7 = count > 7 ? w[7] : 0;
        group.W8 = count > 8 ? w[8] : 0;
        group.W9 = count > 9 ? w[9] : 0;
        group.W10 = count > 10 ? w[10] : 0;
        group.W11 = count > 11 ? w[11] : 0;
        group.W12 = count > 12 ? w[12] : 0;
        group.W13 = count > 13 ? w[13] : 0;
        group.W14 = count > 14 ? w[14] : 0;
        group.W15 = count > 15 ? w[15] : 0;
        ref float a = ref MemoryMarshal.GetReference(acc);
        if (Vector512.IsHardwareAccelerated)
        {
            BySize<Floats512, Vector512<float>>(ref group, ref a, count, load, nonTemporal);
        }
        else
        {
            BySize<FloatsVector, Vector<float>>(ref group, ref a, count, load, nonTemporal);
        }

        if (nonTemporal)
        {
            Interlocked.MemoryBarrier();
        }
    }

    /// <summary>The first element of an input's block; its length was checked by the caller.</summary>
    private static ref float Input(IReadOnlyList<ReadOnlyMemory<float>> inputs, int index, int start, int length) =>
        ref MemoryMarshal.GetReference(inputs[index].Span.Slice(start, length));

    private static void BySize<TV, TVector>(ref InputGroup group, ref float a, int count, bool load, bool nonTemporal)
        where TV : IFloatVector<TVector>
        where TVector : struct
    {
        switch (count)
        {
            case 1: ByFlags<TV, TVector, C1>(ref group, ref a, load, nonTemporal); break;
            case 2: ByFlags<TV, TVector, C2>(ref group, ref a, load, nonTemporal); break;
            case 3: ByFlags<TV, TVector, C3>(ref group, ref a, load, nonTemporal); break;
            case 4: ByFlags<TV, TVector, C4>(ref group, ref a, load, nonTemporal); break;
            case 5: ByFlags<TV, TVector, C5>(ref group, ref a, load, nonTemporal); break;
            case 6: ByFlags<TV, TVector, C6>(ref group, ref a, load, nonTemporal); break;
            case 7: ByFlags<TV, TVector, C7>(ref group, ref a, load, nonTemporal); break;
            case 8: ByFlags<TV, TVector, C8>(ref group, ref a, load, nonTemporal); break;
            case 9: ByFlags<TV, TVector, C9>(ref group, ref a, load, nonTemporal); break;
            case 10: ByFlags<TV, TVector, C10>(ref group, ref a, load, nonTemporal); break;
            case 11: ByFlags<TV, TVector, C11>(ref group, ref a, load, nonTemporal); break;
            case 12: ByFlags<TV, TVector, C12>(ref group, ref a, load, nonTemporal); break;
            case 13: ByFlags<TV, TVector, C13>(ref group, ref a, load, nonTemporal); break;
            case 14: ByFlags<TV, TVector, C14>(ref group, ref a, load, nonTemporal); break;
            case 15: ByFlags<TV, TVector, C15>(ref group, ref a, load, nonTemporal); break;
            default: ByFlags<TV, TVector, C16>(ref group, ref a, load, nonTemporal); break;
        }
    }

    private static void ByFlags<TV, TVector, TCount>(ref InputGroup group, ref float a, bool load, bool nonTemporal)
        where TV : IFloatVector<TVector>
        where TVector : struct
        where TCount : IConstant
    {
        if (load)
        {
            ByScale<TV, TVector, TCount, C1>(ref group, ref a, nonTemporal);
        }
        else
        {
            ByScale<TV, TVector, TCount, C0>(ref group, ref a, nonTemporal);
        }
    }

    private static void ByScale<TV, TVector, TCount, TLoad>(ref InputGroup group, ref float a, bool nonTemporal)
        where TV : IFloatVector<TVector>
        where TVector : struct
        where TCount : IConstant
        where TLoad : IConstant
    {
        if (group.Scale != 1)
        {
            ByStore<TV, TVector, TCount, TLoad, C1>(ref group, ref a, nonTemporal);
        }
        else
        {
            ByStore<TV, TVector, TCount, TLoad, C0>(ref group, ref a, nonTemporal);
        }
    }

    private static void ByStore<TV, TVector, TCount, TLoad, TScale>(ref InputGroup group, ref float a, bool nonTemporal)
        where TV : IFloatVector<TVector>
        where TVector : struct
        where TCount : IConstant
        where TLoad : IConstant
        where TScale : IConstant
    {
        if (nonTemporal)
        {
            RunNonTemporal<TV, TVector, TCount, TLoad, TScale>(ref group, ref a);
        }
        else
        {
            Run<TV, TVector, TCount, TLoad, TScale>(ref group, ref a);
        }
    }

    private static void Run<TV, TVector, TCount, TLoad, TScale>(ref InputGroup group, ref float a)
        where TV : IFloatVector<TVector>
        where TVector : struct
        where TCount : IConstant
        where TLoad : IConstant
        where TScale : IConstant
    {
        InputGroup g = group; // a local copy the JIT can keep in registers
        int length = g.Length;
        int i = 0;
        for (; i <= length - TV.Count; i += TV.Count)
        {
            TV.Store(Vector<TV, TVector, TCount, TLoad, TScale>(ref g, ref a, (nuint)i), ref a, (nuint)i);
        }

        for (; i < length; i++)
        {
            Unsafe.Add(ref a, i) = Scalar<TCount, TLoad, TScale>(ref g, ref a, i);
        }
    }

    // The same as Run, with the vectors stored around the caches: elements before the first aligned vector and after
    // the last are computed by the scalar path.
    private static unsafe void RunNonTemporal<TV, TVector, TCount, TLoad, TScale>(ref InputGroup group, ref float a)
        where TV : IFloatVector<TVector>
        where TVector : struct
        where TCount : IConstant
        where TLoad : IConstant
        where TScale : IConstant
    {
        InputGroup g = group; // a local copy the JIT can keep in registers
        int length = g.Length;
        fixed (float* pointer = &a)
        {
            int bytes = TV.Count * sizeof(float);
            int misalignment = (int)((nuint)pointer % (nuint)bytes);
            int head = misalignment == 0 ? 0 : Math.Min(length, (bytes - misalignment) / sizeof(float));
            int i = 0;
            for (; i < head; i++)
            {
                pointer[i] = Scalar<TCount, TLoad, TScale>(ref g, ref a, i);
            }

            for (; i <= length - TV.Count; i += TV.Count)
            {
                TV.StoreNonTemporal(Vector<TV, TVector, TCount, TLoad, TScale>(ref g, ref a, (nuint)i), pointer + i);
            }

            for (; i < length; i++)
            {
                pointer[i] = Scalar<TCount, TLoad, TScale>(ref g, ref a, i);
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static TVector Vector<TV, TVector, TCount, TLoad, TScale>(ref InputGroup g, ref float a, nuint n)
        where TV : IFloatVector<TVector>
        where TVector : struct
        where TCount : IConstant
        where TLoad : IConstant
        where TScale : IConstant
    {
        TVector s = TV.Multiply(TV.Load(ref g.R0, n), TV.Create(g.W0));
        if (TLoad.Value != 0)
        {
            s = TV.Add(TV.Load(ref a, n), s);
        }

        if (TCount.Value > 1)
        {
            s = TV.Add(s, TV.Multiply(TV.Load(ref g.R1, n), TV.Create(g.W1)));
        }

        if (TCount.Value > 2)
        {
            s = TV.Add(s, TV.Multiply(TV.Load(ref g.R2, n), TV.Create(g.W2)));
        }

        if (TCount.Value > 3)
        {
            s = TV.Add(s, TV.Multiply(TV.Load(ref g.R3, n), TV.Create(g.W3)));
        }

        if (TCount.Value > 4)
        {
            s = TV.Add(s, TV.Multiply(TV.Load(ref g.R4, n), TV.Create(g.W4)));
        }

        if (TCount.Value > 5)
        {
            s = TV.Add(s, TV.Multiply(TV.Load(ref g.R5, n), TV.Create(g.W5)));
        }

        if (TCount.Value > 6)
        {
            s = TV.Add(s, TV.Multiply(TV.Load(ref g.R6, n), TV.Create(g.W6)));
        }

        if (TCount.Value > 7)
        {
            s = TV.Add(s, TV.Multiply(TV.Load(ref g.R7, n), TV.Create(g.W7)));
        }
        if (TCount.Value > 8)
        {
            s = TV.Add(s, TV.Multiply(TV.Load(ref g.R8, n), TV.Create(g.W8)));
        }
        if (TCount.Value > 9)
        {
            s = TV.Add(s, TV.Multiply(TV.Load(ref g.R9, n), TV.Create(g.W9)));
        }
        if (TCount.Value > 10)
        {
            s = TV.Add(s, TV.Multiply(TV.Load(ref g.R10, n), TV.Create(g.W10)));
        }
        if (TCount.Value > 11)
        {
            s = TV.Add(s, TV.Multiply(TV.Load(ref g.R11, n), TV.Create(g.W11)));
        }
        if (TCount.Value > 12)
        {
            s = TV.Add(s, TV.Multiply(TV.Load(ref g.R12, n), TV.Create(g.W12)));
        }
        if (TCount.Value > 13)
        {
            s = TV.Add(s, TV.Multiply(TV.Load(ref g.R13, n), TV.Create(g.W13)));
        }
        if (TCount.Value > 14)
        {
            s = TV.Add(s, TV.Multiply(TV.Load(ref g.R14, n), TV.Create(g.W14)));
        }
        if (TCount.Value > 15)
        {
            s = TV.Add(s, TV.Multiply(TV.Load(ref g.R15, n), TV.Create(g.W15)));
        }

        return TScale.Value != 0 ? TV.Multiply(s, TV.Create(g.Scale)) : s;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float Scalar<TCount, TLoad, TScale>(ref InputGroup g, ref float a, int i)
        where TCount : IConstant
        where TLoad : IConstant
        where TScale : IConstant
    {
        float s = Unsafe.Add(ref g.R0, i) * g.W0;
        if (TLoad.Value != 0)
        {
            s = Unsafe.Add(ref a, i) + s;
        }

        if (TCount.Value > 1)
        {
            s += Unsafe.Add(ref g.R1, i) * g.W1;
        }

        if (TCount.Value > 2)
        {
            s += Unsafe.Add(ref g.R2, i) * g.W2;
        }

        if (TCount.Value > 3)
        {
            s += Unsafe.Add(ref g.R3, i) * g.W3;
        }

        if (TCount.Value > 4)
        {
            s += Unsafe.Add(ref g.R4, i) * g.W4;
        }

        if (TCount.Value > 5)
        {
            s += Unsafe.Add(ref g.R5, i) * g.W5;
        }

        if (TCount.Value > 6)
        {
            s += Unsafe.Add(ref g.R6, i) * g.W6;
        }

        if (TCount.Value > 7)
        {
            s += Unsafe.Add(ref g.R7, i) * g.W7;
        }
        if (TCount.Value > 8)
        {
            s += Unsafe.Add(ref g.R8, i) * g.W8;
        }
        if (TCount.Value > 9)
        {
            s += Unsafe.Add(ref g.R9, i) * g.W9;
        }
        if (TCount.Value > 10)
        {
            s += Unsafe.Add(ref g.R10, i) * g.W10;
        }
        if (TCount.Value > 11)
        {
            s += Unsafe.Add(ref g.R11, i) * g.W11;
        }
        if (TCount.Value > 12)
        {
            s += Unsafe.Add(ref g.R12, i) * g.W12;
        }
        if (TCount.Value > 13)
        {
            s += Unsafe.Add(ref g.R13, i) * g.W13;
        }
        if (TCount.Value > 14)
        {
            s += Unsafe.Add(ref g.R14, i) * g.W14;
        }
        if (TCount.Value > 15)
        {
            s += Unsafe.Add(ref g.R15, i) * g.W15;
        }

        return TScale.Value != 0 ? s * g.Scale : s;
    }

    /// <summary>A group's input blocks and weights (unused slots alias the first input and are never read).</summary>
    private ref struct InputGroup
    {
        public ref float R0, R1, R2, R3, R4, R5, R6, R7, R8, R9, R10, R11, R12, R13, R14, R15;
        public float W0, W1, W2, W3, W4, W5, W6, W7, W8, W9, W10, W11, W12, W13, W14, W15;
        public readonly int Length;
        public readonly float Scale;

        public InputGroup(int length, float scale)
        {
            Length = length;
            Scale = scale;
        }
    }
}
