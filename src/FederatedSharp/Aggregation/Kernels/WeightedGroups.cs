using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace FederatedSharp.Aggregation.Kernels;

/// <summary>
/// One pass of a weighted sum over a cache block: up to <see cref="MaxGroup"/> inputs added to the accumulator in
/// registers, in order, then stored once. The first group of a fresh sum does not read the accumulator, and the last
/// group of a final pass scales before its store, so a round of up to eight updates is one read of each and one write
/// of the mean, and a round of any size writes each block once per group. Per element the operations are those of
/// <c>acc = acc + w x</c> for each input in order, then <c>acc * scale</c>: the grouping never changes a bit.
/// </summary>
internal static class WeightedGroups
{
    /// <summary>Inputs per pass at most (eight streams in flight; eight weights and the sum fit the 16 registers of AVX2).</summary>
    public const int MaxGroup = 8;

    /// <summary>The size of the next group when <paramref name="remaining"/> inputs are left: eight, except that the
    /// last two groups are split evenly rather than leave fewer than four for the last pass.</summary>
    public static int NextGroup(int remaining) =>
        remaining <= MaxGroup ? remaining : remaining - MaxGroup < MaxGroup / 2 ? (remaining + 1) / 2 : MaxGroup;

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
    public static void Add(IReadOnlyList<ReadOnlyMemory<float>> inputs, float[] weights, int first, int count, int start, Span<float> acc, bool load, float scale)
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
        ReadOnlySpan<float> w = weights.AsSpan(first, count);
        group.W0 = w[0];
        group.W1 = count > 1 ? w[1] : 0;
        group.W2 = count > 2 ? w[2] : 0;
        group.W3 = count > 3 ? w[3] : 0;
        group.W4 = count > 4 ? w[4] : 0;
        group.W5 = count > 5 ? w[5] : 0;
        group.W6 = count > 6 ? w[6] : 0;
        group.W7 = count > 7 ? w[7] : 0;
        ref float a = ref MemoryMarshal.GetReference(acc);
        if (Vector512.IsHardwareAccelerated)
        {
            BySize<Floats512, Vector512<float>>(ref group, ref a, count, load);
        }
        else
        {
            BySize<FloatsVector, Vector<float>>(ref group, ref a, count, load);
        }
    }

    /// <summary>The first element of an input's block; its length was checked by the caller.</summary>
    private static ref float Input(IReadOnlyList<ReadOnlyMemory<float>> inputs, int index, int start, int length) =>
        ref MemoryMarshal.GetReference(inputs[index].Span.Slice(start, length));

    private static void BySize<TV, TVector>(ref InputGroup group, ref float a, int count, bool load)
        where TV : IFloatVector<TVector>
        where TVector : struct
    {
        switch (count)
        {
            case 1: ByFlags<TV, TVector, C1>(ref group, ref a, load); break;
            case 2: ByFlags<TV, TVector, C2>(ref group, ref a, load); break;
            case 3: ByFlags<TV, TVector, C3>(ref group, ref a, load); break;
            case 4: ByFlags<TV, TVector, C4>(ref group, ref a, load); break;
            case 5: ByFlags<TV, TVector, C5>(ref group, ref a, load); break;
            case 6: ByFlags<TV, TVector, C6>(ref group, ref a, load); break;
            case 7: ByFlags<TV, TVector, C7>(ref group, ref a, load); break;
            default: ByFlags<TV, TVector, C8>(ref group, ref a, load); break;
        }
    }

    private static void ByFlags<TV, TVector, TCount>(ref InputGroup group, ref float a, bool load)
        where TV : IFloatVector<TVector>
        where TVector : struct
        where TCount : IConstant
    {
        bool scale = group.Scale != 1;
        if (load)
        {
            if (scale)
            {
                Run<TV, TVector, TCount, C1, C1>(ref group, ref a);
            }
            else
            {
                Run<TV, TVector, TCount, C1, C0>(ref group, ref a);
            }
        }
        else if (scale)
        {
            Run<TV, TVector, TCount, C0, C1>(ref group, ref a);
        }
        else
        {
            Run<TV, TVector, TCount, C0, C0>(ref group, ref a);
        }
    }

    private static void Run<TV, TVector, TCount, TLoad, TScale>(ref InputGroup group, ref float a)
        where TV : IFloatVector<TVector>
        where TVector : struct
        where TCount : IConstant
        where TLoad : IConstant
        where TScale : IConstant
    {
        ref float r0 = ref group.R0, r1 = ref group.R1, r2 = ref group.R2, r3 = ref group.R3;
        ref float r4 = ref group.R4, r5 = ref group.R5, r6 = ref group.R6, r7 = ref group.R7;
        TVector v0 = TV.Create(group.W0), v1 = TV.Create(group.W1), v2 = TV.Create(group.W2), v3 = TV.Create(group.W3);
        TVector v4 = TV.Create(group.W4), v5 = TV.Create(group.W5), v6 = TV.Create(group.W6), v7 = TV.Create(group.W7);
        TVector vs = TV.Create(group.Scale);
        int length = group.Length;
        int i = 0;
        for (; i <= length - TV.Count; i += TV.Count)
        {
            nuint n = (nuint)i;
            TVector s = TV.Multiply(TV.Load(ref r0, n), v0);
            if (TLoad.Value != 0) { s = TV.Add(TV.Load(ref a, n), s); }
            if (TCount.Value > 1) { s = TV.Add(s, TV.Multiply(TV.Load(ref r1, n), v1)); }
            if (TCount.Value > 2) { s = TV.Add(s, TV.Multiply(TV.Load(ref r2, n), v2)); }
            if (TCount.Value > 3) { s = TV.Add(s, TV.Multiply(TV.Load(ref r3, n), v3)); }
            if (TCount.Value > 4) { s = TV.Add(s, TV.Multiply(TV.Load(ref r4, n), v4)); }
            if (TCount.Value > 5) { s = TV.Add(s, TV.Multiply(TV.Load(ref r5, n), v5)); }
            if (TCount.Value > 6) { s = TV.Add(s, TV.Multiply(TV.Load(ref r6, n), v6)); }
            if (TCount.Value > 7) { s = TV.Add(s, TV.Multiply(TV.Load(ref r7, n), v7)); }
            if (TScale.Value != 0) { s = TV.Multiply(s, vs); }
            TV.Store(s, ref a, n);
        }

        for (; i < length; i++)
        {
            float s = Unsafe.Add(ref r0, i) * group.W0;
            if (TLoad.Value != 0) { s = Unsafe.Add(ref a, i) + s; }
            if (TCount.Value > 1) { s += Unsafe.Add(ref r1, i) * group.W1; }
            if (TCount.Value > 2) { s += Unsafe.Add(ref r2, i) * group.W2; }
            if (TCount.Value > 3) { s += Unsafe.Add(ref r3, i) * group.W3; }
            if (TCount.Value > 4) { s += Unsafe.Add(ref r4, i) * group.W4; }
            if (TCount.Value > 5) { s += Unsafe.Add(ref r5, i) * group.W5; }
            if (TCount.Value > 6) { s += Unsafe.Add(ref r6, i) * group.W6; }
            if (TCount.Value > 7) { s += Unsafe.Add(ref r7, i) * group.W7; }
            if (TScale.Value != 0) { s *= group.Scale; }
            Unsafe.Add(ref a, i) = s;
        }
    }

    /// <summary>A group's input blocks and weights (unused slots alias the first input and are never read).</summary>
    private ref struct InputGroup
    {
        public ref float R0, R1, R2, R3, R4, R5, R6, R7;
        public float W0, W1, W2, W3, W4, W5, W6, W7;
        public readonly int Length;
        public readonly float Scale;

        public InputGroup(int length, float scale)
        {
            Length = length;
            Scale = scale;
        }
    }
}
