using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace FederatedSharp.Aggregation.Kernels;

/// <summary>
/// The integer-key vector operations the order-statistic kernels are written against, so one source serves 512-bit
/// vectors (where accelerated) and <see cref="Vector{T}"/> (256-bit, 128-bit or software). Implemented by structs, so
/// every generic use is specialised and inlined by the JIT.
/// </summary>
/// <typeparam name="TVector">The vector type.</typeparam>
internal interface IKeyVector<TVector>
    where TVector : struct
{
    /// <summary>Lanes per vector.</summary>
    static abstract int Count { get; }

    /// <summary>Loads a vector at <paramref name="source"/> + <paramref name="index"/> elements.</summary>
    static abstract TVector Load(ref int source, nuint index);

    /// <summary>Stores a vector at <paramref name="destination"/> + <paramref name="index"/> elements.</summary>
    static abstract void Store(TVector value, ref int destination, nuint index);

    /// <summary>Lane-wise signed minimum.</summary>
    static abstract TVector Min(TVector a, TVector b);

    /// <summary>Lane-wise signed maximum.</summary>
    static abstract TVector Max(TVector a, TVector b);
}

/// <summary>512-bit keys.</summary>
internal readonly struct Keys512 : IKeyVector<Vector512<int>>
{
    public static int Count => Vector512<int>.Count;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<int> Load(ref int source, nuint index) => Vector512.LoadUnsafe(ref source, index);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store(Vector512<int> value, ref int destination, nuint index) => value.StoreUnsafe(ref destination, index);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<int> Min(Vector512<int> a, Vector512<int> b) => Vector512.Min(a, b);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<int> Max(Vector512<int> a, Vector512<int> b) => Vector512.Max(a, b);
}

/// <summary><see cref="Vector{T}"/> keys: the widest vector below 512 bits the hardware has, or software.</summary>
internal readonly struct KeysVector : IKeyVector<Vector<int>>
{
    public static int Count => Vector<int>.Count;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector<int> Load(ref int source, nuint index) => Vector.LoadUnsafe(ref source, index);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store(Vector<int> value, ref int destination, nuint index) => value.StoreUnsafe(ref destination, index);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector<int> Min(Vector<int> a, Vector<int> b) => Vector.Min(a, b);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector<int> Max(Vector<int> a, Vector<int> b) => Vector.Max(a, b);
}

/// <summary>
/// Sorting 16 wires of keys in vector registers: the comparators of a network held in memory each store two vectors,
/// and stores, not comparisons, bound that kernel; here the 16 wires are loaded once, sorted by Batcher's odd-even
/// merge sort for 16 (63 comparators, straight-line code, so the JIT keeps every wire in a register) and stored once.
/// Wires beyond the inputs are padded with <see cref="int.MaxValue"/>, above every key of a NaN-free value, so after
/// the sort they are still the top wires and the inputs' ranks are the bottom ones.
/// </summary>
internal static class RegisterSort
{
    /// <summary>The comparators of <see cref="Sixteen{TVector, TOps}"/>.</summary>
    public const int SixteenComparators = 63;

    /// <summary>Sorts 16 wires of <c>TOps.Count</c> lanes each, wire r at <paramref name="keys"/> + r x Count, lane by lane.</summary>
    /// <typeparam name="TVector">The vector type.</typeparam>
    /// <typeparam name="TOps">Its operations.</typeparam>
    /// <param name="keys">The first wire.</param>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Sixteen<TVector, TOps>(ref int keys)
        where TVector : struct
        where TOps : struct, IKeyVector<TVector>
    {
        nuint count = (nuint)TOps.Count;
        TVector w0 = TOps.Load(ref keys, 0 * count),
            w1 = TOps.Load(ref keys, 1 * count),
            w2 = TOps.Load(ref keys, 2 * count),
            w3 = TOps.Load(ref keys, 3 * count),
            w4 = TOps.Load(ref keys, 4 * count),
            w5 = TOps.Load(ref keys, 5 * count),
            w6 = TOps.Load(ref keys, 6 * count),
            w7 = TOps.Load(ref keys, 7 * count),
            w8 = TOps.Load(ref keys, 8 * count),
            w9 = TOps.Load(ref keys, 9 * count),
            w10 = TOps.Load(ref keys, 10 * count),
            w11 = TOps.Load(ref keys, 11 * count),
            w12 = TOps.Load(ref keys, 12 * count),
            w13 = TOps.Load(ref keys, 13 * count),
            w14 = TOps.Load(ref keys, 14 * count),
            w15 = TOps.Load(ref keys, 15 * count);
        (w0, w1) = (TOps.Min(w0, w1), TOps.Max(w0, w1));
        (w2, w3) = (TOps.Min(w2, w3), TOps.Max(w2, w3));
        (w4, w5) = (TOps.Min(w4, w5), TOps.Max(w4, w5));
        (w6, w7) = (TOps.Min(w6, w7), TOps.Max(w6, w7));
        (w8, w9) = (TOps.Min(w8, w9), TOps.Max(w8, w9));
        (w10, w11) = (TOps.Min(w10, w11), TOps.Max(w10, w11));
        (w12, w13) = (TOps.Min(w12, w13), TOps.Max(w12, w13));
        (w14, w15) = (TOps.Min(w14, w15), TOps.Max(w14, w15));
        (w0, w2) = (TOps.Min(w0, w2), TOps.Max(w0, w2));
        (w1, w3) = (TOps.Min(w1, w3), TOps.Max(w1, w3));
        (w4, w6) = (TOps.Min(w4, w6), TOps.Max(w4, w6));
        (w5, w7) = (TOps.Min(w5, w7), TOps.Max(w5, w7));
        (w8, w10) = (TOps.Min(w8, w10), TOps.Max(w8, w10));
        (w9, w11) = (TOps.Min(w9, w11), TOps.Max(w9, w11));
        (w12, w14) = (TOps.Min(w12, w14), TOps.Max(w12, w14));
        (w13, w15) = (TOps.Min(w13, w15), TOps.Max(w13, w15));
        (w1, w2) = (TOps.Min(w1, w2), TOps.Max(w1, w2));
        (w5, w6) = (TOps.Min(w5, w6), TOps.Max(w5, w6));
        (w9, w10) = (TOps.Min(w9, w10), TOps.Max(w9, w10));
        (w13, w14) = (TOps.Min(w13, w14), TOps.Max(w13, w14));
        (w0, w4) = (TOps.Min(w0, w4), TOps.Max(w0, w4));
        (w1, w5) = (TOps.Min(w1, w5), TOps.Max(w1, w5));
        (w2, w6) = (TOps.Min(w2, w6), TOps.Max(w2, w6));
        (w3, w7) = (TOps.Min(w3, w7), TOps.Max(w3, w7));
        (w8, w12) = (TOps.Min(w8, w12), TOps.Max(w8, w12));
        (w9, w13) = (TOps.Min(w9, w13), TOps.Max(w9, w13));
        (w10, w14) = (TOps.Min(w10, w14), TOps.Max(w10, w14));
        (w11, w15) = (TOps.Min(w11, w15), TOps.Max(w11, w15));
        (w2, w4) = (TOps.Min(w2, w4), TOps.Max(w2, w4));
        (w3, w5) = (TOps.Min(w3, w5), TOps.Max(w3, w5));
        (w10, w12) = (TOps.Min(w10, w12), TOps.Max(w10, w12));
        (w11, w13) = (TOps.Min(w11, w13), TOps.Max(w11, w13));
        (w1, w2) = (TOps.Min(w1, w2), TOps.Max(w1, w2));
        (w3, w4) = (TOps.Min(w3, w4), TOps.Max(w3, w4));
        (w5, w6) = (TOps.Min(w5, w6), TOps.Max(w5, w6));
        (w9, w10) = (TOps.Min(w9, w10), TOps.Max(w9, w10));
        (w11, w12) = (TOps.Min(w11, w12), TOps.Max(w11, w12));
        (w13, w14) = (TOps.Min(w13, w14), TOps.Max(w13, w14));
        (w0, w8) = (TOps.Min(w0, w8), TOps.Max(w0, w8));
        (w1, w9) = (TOps.Min(w1, w9), TOps.Max(w1, w9));
        (w2, w10) = (TOps.Min(w2, w10), TOps.Max(w2, w10));
        (w3, w11) = (TOps.Min(w3, w11), TOps.Max(w3, w11));
        (w4, w12) = (TOps.Min(w4, w12), TOps.Max(w4, w12));
        (w5, w13) = (TOps.Min(w5, w13), TOps.Max(w5, w13));
        (w6, w14) = (TOps.Min(w6, w14), TOps.Max(w6, w14));
        (w7, w15) = (TOps.Min(w7, w15), TOps.Max(w7, w15));
        (w4, w8) = (TOps.Min(w4, w8), TOps.Max(w4, w8));
        (w5, w9) = (TOps.Min(w5, w9), TOps.Max(w5, w9));
        (w6, w10) = (TOps.Min(w6, w10), TOps.Max(w6, w10));
        (w7, w11) = (TOps.Min(w7, w11), TOps.Max(w7, w11));
        (w2, w4) = (TOps.Min(w2, w4), TOps.Max(w2, w4));
        (w3, w5) = (TOps.Min(w3, w5), TOps.Max(w3, w5));
        (w6, w8) = (TOps.Min(w6, w8), TOps.Max(w6, w8));
        (w7, w9) = (TOps.Min(w7, w9), TOps.Max(w7, w9));
        (w10, w12) = (TOps.Min(w10, w12), TOps.Max(w10, w12));
        (w11, w13) = (TOps.Min(w11, w13), TOps.Max(w11, w13));
        (w1, w2) = (TOps.Min(w1, w2), TOps.Max(w1, w2));
        (w3, w4) = (TOps.Min(w3, w4), TOps.Max(w3, w4));
        (w5, w6) = (TOps.Min(w5, w6), TOps.Max(w5, w6));
        (w7, w8) = (TOps.Min(w7, w8), TOps.Max(w7, w8));
        (w9, w10) = (TOps.Min(w9, w10), TOps.Max(w9, w10));
        (w11, w12) = (TOps.Min(w11, w12), TOps.Max(w11, w12));
        (w13, w14) = (TOps.Min(w13, w14), TOps.Max(w13, w14));
        TOps.Store(w0, ref keys, 0 * count);
        TOps.Store(w1, ref keys, 1 * count);
        TOps.Store(w2, ref keys, 2 * count);
        TOps.Store(w3, ref keys, 3 * count);
        TOps.Store(w4, ref keys, 4 * count);
        TOps.Store(w5, ref keys, 5 * count);
        TOps.Store(w6, ref keys, 6 * count);
        TOps.Store(w7, ref keys, 7 * count);
        TOps.Store(w8, ref keys, 8 * count);
        TOps.Store(w9, ref keys, 9 * count);
        TOps.Store(w10, ref keys, 10 * count);
        TOps.Store(w11, ref keys, 11 * count);
        TOps.Store(w12, ref keys, 12 * count);
        TOps.Store(w13, ref keys, 13 * count);
        TOps.Store(w14, ref keys, 14 * count);
        TOps.Store(w15, ref keys, 15 * count);
    }
}
