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

    /// <summary>
    /// Loads the floats at <paramref name="source"/> + <paramref name="index"/> as IEEE 754 total-order keys (the
    /// magnitude bits of negative values flipped), so a signed integer minimum or maximum compares as the total order does.
    /// </summary>
    static abstract TVector LoadKeys(ref float source, nuint index);

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
    public static Vector512<int> LoadKeys(ref float source, nuint index)
    {
        Vector512<int> bits = Vector512.LoadUnsafe(ref source, index).AsInt32();
        return bits ^ (Vector512.ShiftRightArithmetic(bits, 31) & Vector512.Create(int.MaxValue));
    }

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
    public static Vector<int> LoadKeys(ref float source, nuint index)
    {
        Vector<int> bits = Vector.AsVectorInt32(Vector.LoadUnsafe(ref source, index));
        return bits ^ (Vector.ShiftRightArithmetic(bits, 31) & new Vector<int>(int.MaxValue));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store(Vector<int> value, ref int destination, nuint index) => value.StoreUnsafe(ref destination, index);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector<int> Min(Vector<int> a, Vector<int> b) => Vector.Min(a, b);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector<int> Max(Vector<int> a, Vector<int> b) => Vector.Max(a, b);
}

/// <summary>Keys loaded from an array at an element index, for the compiled networks (which cannot take refs to array elements across calls).</summary>
internal static class ArrayKeys
{
    /// <summary>The 512-bit keys of <paramref name="source"/> at <paramref name="index"/>; the caller has checked the range.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<int> Load512(float[] source, int index) =>
        Keys512.LoadKeys(ref System.Runtime.InteropServices.MemoryMarshal.GetArrayDataReference(source), (nuint)index);

    /// <summary>The <see cref="Vector{T}"/> keys of <paramref name="source"/> at <paramref name="index"/>; the caller has checked the range.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector<int> LoadVector(float[] source, int index) =>
        KeysVector.LoadKeys(ref System.Runtime.InteropServices.MemoryMarshal.GetArrayDataReference(source), (nuint)index);
}
