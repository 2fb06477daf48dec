using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace FederatedSharp.Aggregation.Kernels;

/// <summary>
/// The float vector operations the fused element-wise kernels are written against, so one source serves 512-bit vectors
/// (where accelerated) and <see cref="Vector{T}"/> (256-bit, 128-bit or software). Implemented by structs, so every
/// generic use is specialised and inlined by the JIT. Each operation is the IEEE operation of its scalar counterpart
/// (no fusing), so a kernel gives the same bits as the same steps written with <c>TensorPrimitives</c>.
/// </summary>
/// <typeparam name="TVector">The vector type.</typeparam>
internal interface IFloatVector<TVector>
    where TVector : struct
{
    /// <summary>Lanes per vector.</summary>
    static abstract int Count { get; }

    /// <summary>Every lane <paramref name="value"/>.</summary>
    static abstract TVector Create(float value);

    /// <summary>Loads a vector at <paramref name="source"/> + <paramref name="index"/> elements.</summary>
    static abstract TVector Load(ref float source, nuint index);

    /// <summary>Stores a vector at <paramref name="destination"/> + <paramref name="index"/> elements.</summary>
    static abstract void Store(TVector value, ref float destination, nuint index);

    /// <summary>
    /// Stores a vector at <paramref name="destination"/>, aligned to the vector's size, bypassing the caches (no read of
    /// the line first). Weakly ordered: the writer fences before another thread reads.
    /// </summary>
    static abstract unsafe void StoreNonTemporal(TVector value, float* destination);

    /// <summary>Lane-wise <c>a + b</c>.</summary>
    static abstract TVector Add(TVector a, TVector b);

    /// <summary>Lane-wise <c>a - b</c>.</summary>
    static abstract TVector Subtract(TVector a, TVector b);

    /// <summary>Lane-wise <c>a * b</c>.</summary>
    static abstract TVector Multiply(TVector a, TVector b);

    /// <summary>Lane-wise <c>a / b</c>.</summary>
    static abstract TVector Divide(TVector a, TVector b);

    /// <summary>Lane-wise square root.</summary>
    static abstract TVector Sqrt(TVector a);

    /// <summary>Lane-wise sign: 1 where positive, -1 where negative, 0 where zero or NaN.</summary>
    static abstract TVector Sign(TVector a);
}

/// <summary>512-bit floats.</summary>
internal readonly struct Floats512 : IFloatVector<Vector512<float>>
{
    public static int Count => Vector512<float>.Count;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Create(float value) => Vector512.Create(value);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Load(ref float source, nuint index) => Vector512.LoadUnsafe(ref source, index);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store(Vector512<float> value, ref float destination, nuint index) => value.StoreUnsafe(ref destination, index);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static unsafe void StoreNonTemporal(Vector512<float> value, float* destination) => Vector512.StoreAlignedNonTemporal(value, destination);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Add(Vector512<float> a, Vector512<float> b) => a + b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Subtract(Vector512<float> a, Vector512<float> b) => a - b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Multiply(Vector512<float> a, Vector512<float> b) => a * b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Divide(Vector512<float> a, Vector512<float> b) => a / b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Sqrt(Vector512<float> a) => Vector512.Sqrt(a);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Sign(Vector512<float> a) =>
        (Vector512.GreaterThan(a, Vector512<float>.Zero) & Vector512<float>.One) - (Vector512.LessThan(a, Vector512<float>.Zero) & Vector512<float>.One);
}

/// <summary><see cref="Vector{T}"/> floats: the widest vector below 512 bits the hardware has, or software.</summary>
internal readonly struct FloatsVector : IFloatVector<Vector<float>>
{
    public static int Count => Vector<float>.Count;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector<float> Create(float value) => new(value);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector<float> Load(ref float source, nuint index) => Vector.LoadUnsafe(ref source, index);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store(Vector<float> value, ref float destination, nuint index) => value.StoreUnsafe(ref destination, index);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static unsafe void StoreNonTemporal(Vector<float> value, float* destination) => Vector.StoreAlignedNonTemporal(value, destination);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector<float> Add(Vector<float> a, Vector<float> b) => a + b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector<float> Subtract(Vector<float> a, Vector<float> b) => a - b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector<float> Multiply(Vector<float> a, Vector<float> b) => a * b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector<float> Divide(Vector<float> a, Vector<float> b) => a / b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector<float> Sqrt(Vector<float> a) => Vector.SquareRoot(a);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector<float> Sign(Vector<float> a) =>
        (Vector.AsVectorSingle(Vector.GreaterThan(a, Vector<float>.Zero)) & Vector<float>.One) - (Vector.AsVectorSingle(Vector.LessThan(a, Vector<float>.Zero)) & Vector<float>.One);
}

/// <summary>A compile-time constant for generic kernels, so the JIT removes the branches it decides.</summary>
internal interface IConstant
{
    /// <summary>The value.</summary>
    static abstract int Value { get; }
}

/// <summary>The constant 0 (also: no).</summary>
internal readonly struct C0 : IConstant
{
    public static int Value => 0;
}

/// <summary>The constant 1 (also: yes).</summary>
internal readonly struct C1 : IConstant
{
    public static int Value => 1;
}

/// <summary>The constant 2.</summary>
internal readonly struct C2 : IConstant
{
    public static int Value => 2;
}

/// <summary>The constant 3.</summary>
internal readonly struct C3 : IConstant
{
    public static int Value => 3;
}

/// <summary>The constant 4.</summary>
internal readonly struct C4 : IConstant
{
    public static int Value => 4;
}

/// <summary>The constant 5.</summary>
internal readonly struct C5 : IConstant
{
    public static int Value => 5;
}

/// <summary>The constant 6.</summary>
internal readonly struct C6 : IConstant
{
    public static int Value => 6;
}

/// <summary>The constant 7.</summary>
internal readonly struct C7 : IConstant
{
    public static int Value => 7;
}

/// <summary>The constant 8.</summary>
internal readonly struct C8 : IConstant
{
    public static int Value => 8;
}

/// <summary>The constant 9.</summary>
internal readonly struct C9 : IConstant
{
    public static int Value => 9;
}

/// <summary>The constant 10.</summary>
internal readonly struct C10 : IConstant
{
    public static int Value => 10;
}

/// <summary>The constant 11.</summary>
internal readonly struct C11 : IConstant
{
    public static int Value => 11;
}

/// <summary>The constant 12.</summary>
internal readonly struct C12 : IConstant
{
    public static int Value => 12;
}

/// <summary>The constant 13.</summary>
internal readonly struct C13 : IConstant
{
    public static int Value => 13;
}

/// <summary>The constant 14.</summary>
internal readonly struct C14 : IConstant
{
    public static int Value => 14;
}

/// <summary>The constant 15.</summary>
internal readonly struct C15 : IConstant
{
    public static int Value => 15;
}

/// <summary>The constant 16.</summary>
internal readonly struct C16 : IConstant
{
    public static int Value => 16;
}
