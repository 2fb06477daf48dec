using System.Buffers;
using System.Runtime.InteropServices;

namespace FederatedSharp.Parameters;

/// <summary>
/// A model's parameters: named tensors (<see cref="Layout"/>) whose <see cref="float"/> values live in one contiguous
/// buffer rented from <see cref="ArrayPool{T}.Shared"/>, so every aggregator works on a single span. The values start on
/// a 64-byte boundary when the rented buffer has room, so the kernels' vector loads do not straddle cache lines. The
/// owner disposes it, which returns the buffer; any use after that throws <see cref="ObjectDisposedException"/>.
/// </summary>
public sealed class ModelParameters : IDisposable
{
    /// <summary>The alignment of the values' start, in bytes: a cache line, and one 512-bit vector.</summary>
    private const int Alignment = 64;

    private readonly int _start;
    private float[]? _buffer;
    private int _disposed;
    private int _references = 1;

    private ModelParameters(TensorLayout layout, float[] buffer, int start)
    {
        Layout = layout;
        _buffer = buffer;
        _start = start;
    }

    /// <summary>The tensors and where they live in the buffer.</summary>
    public TensorLayout Layout { get; }

    /// <summary>The number of parameters.</summary>
    public int Length => Layout.TotalLength;

    /// <summary>Whether <see cref="Dispose"/> has run.</summary>
    public bool IsDisposed => Volatile.Read(ref _disposed) != 0;

    /// <summary>All values, in layout order.</summary>
    /// <exception cref="ObjectDisposedException">The parameters were disposed.</exception>
    public Span<float> Values => Buffer.AsSpan(_start, Length);

    /// <summary>All values as memory, in layout order (for work split across threads).</summary>
    /// <exception cref="ObjectDisposedException">The parameters were disposed.</exception>
    public Memory<float> Memory => Buffer.AsMemory(_start, Length);

    private float[] Buffer
    {
        get
        {
            ObjectDisposedException.ThrowIf(IsDisposed, this);
            return _buffer!;
        }
    }

    /// <summary>Creates zero-filled parameters for <paramref name="layout"/>.</summary>
    /// <param name="layout">The tensors.</param>
    /// <returns>New parameters the caller owns.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="layout"/> is null.</exception>
    public static ModelParameters Create(TensorLayout layout)
    {
        ModelParameters parameters = CreateUninitialized(layout);
        parameters.Values.Clear();
        return parameters;
    }

    /// <summary>Creates parameters for <paramref name="layout"/> holding a copy of <paramref name="values"/>.</summary>
    /// <param name="layout">The tensors.</param>
    /// <param name="values">Values in layout order; the length must equal <see cref="TensorLayout.TotalLength"/>.</param>
    /// <returns>New parameters the caller owns.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="layout"/> is null.</exception>
    /// <exception cref="ArgumentException">The number of values differs from the layout's.</exception>
    public static ModelParameters FromValues(TensorLayout layout, ReadOnlySpan<float> values)
    {
        ArgumentNullException.ThrowIfNull(layout);
        if (values.Length != layout.TotalLength)
        {
            throw new ArgumentException($"Got {values.Length} values for a layout of {layout.TotalLength} parameters.", nameof(values));
        }

        ModelParameters parameters = CreateUninitialized(layout);
        values.CopyTo(parameters.Values);
        return parameters;
    }

    /// <summary>Creates parameters whose values are whatever the pooled buffer held; the caller must overwrite all of them.</summary>
    /// <param name="layout">The tensors.</param>
    /// <returns>New parameters the caller owns.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="layout"/> is null.</exception>
    public static ModelParameters CreateUninitialized(TensorLayout layout)
    {
        ArgumentNullException.ThrowIfNull(layout);
        float[] buffer = ArrayPool<float>.Shared.Rent(Math.Max(layout.TotalLength, 1));
        return new ModelParameters(layout, buffer, AlignedStart(buffer, layout.TotalLength));
    }

    /// <summary>
    /// The first index of <paramref name="buffer"/> on a 64-byte boundary when <paramref name="length"/> values still fit
    /// after it, else 0 (a pooled buffer of exactly the length). Arrays on the large object heap (models of more than about
    /// 21,000 parameters) are not moved unless a program asks the GC to compact that heap, so their values stay aligned; a
    /// smaller array may move and lose it, which costs time, never correctness.
    /// </summary>
    private static int AlignedStart(float[] buffer, int length)
    {
        GCHandle handle = GCHandle.Alloc(buffer, GCHandleType.Pinned);
        try
        {
            long address = handle.AddrOfPinnedObject();
            int skip = (int)((Alignment - (address & (Alignment - 1))) & (Alignment - 1)) / sizeof(float);
            return buffer.Length - skip >= length ? skip : 0;
        }
        finally
        {
            handle.Free();
        }
    }

    /// <summary>The values of tensor <paramref name="index"/>.</summary>
    /// <param name="index">The tensor's position in the layout.</param>
    /// <returns>A span over that tensor's values.</returns>
    /// <exception cref="ObjectDisposedException">The parameters were disposed.</exception>
    public Span<float> GetTensor(int index) =>
        Buffer.AsSpan(_start + Layout.GetOffset(index), Layout.Tensors[index].ElementCount);

    /// <summary>The values of the tensor called <paramref name="name"/>.</summary>
    /// <param name="name">The tensor's name.</param>
    /// <returns>A span over that tensor's values.</returns>
    /// <exception cref="KeyNotFoundException">No tensor has that name.</exception>
    /// <exception cref="ObjectDisposedException">The parameters were disposed.</exception>
    public Span<float> GetTensor(string name) => GetTensor(Layout.IndexOf(name));

    /// <summary>A deep copy the caller owns.</summary>
    /// <returns>The copy.</returns>
    /// <exception cref="ObjectDisposedException">The parameters were disposed.</exception>
    public ModelParameters Clone() => FromValues(Layout, Values);

    /// <summary>Copies the values into <paramref name="destination"/>, which must have the same layout.</summary>
    /// <param name="destination">The target.</param>
    /// <exception cref="LayoutMismatchException">The layouts differ.</exception>
    /// <exception cref="ObjectDisposedException">Either side was disposed.</exception>
    public void CopyTo(ModelParameters destination)
    {
        ArgumentNullException.ThrowIfNull(destination);
        Layout.EnsureCompatible(destination.Layout, "copy destination");
        Values.CopyTo(destination.Values);
    }

    /// <summary>Returns the buffer to the pool (once nothing retains it). Safe to call more than once.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            Release();
        }
    }

    /// <summary>
    /// Keeps the values alive, read-only, past the owner's <see cref="Dispose"/>: the buffer goes back to the pool when
    /// the owner and every retention have let go. Buffering aggregators hold the server's updates this way instead of
    /// copying them; the owner must not change the values once it has handed them over.
    /// </summary>
    /// <returns>The values and the retention that keeps them.</returns>
    /// <exception cref="ObjectDisposedException">The parameters were disposed.</exception>
    internal RetainedValues Retain()
    {
        ReadOnlyMemory<float> values = Memory;
        Interlocked.Increment(ref _references);
        return new RetainedValues(values, this);
    }

    private void Release()
    {
        if (Interlocked.Decrement(ref _references) == 0)
        {
            ArrayPool<float>.Shared.Return(Interlocked.Exchange(ref _buffer, null)!);
        }
    }

    /// <summary>Read-only values kept alive by a retention; disposing it (once) lets them go.</summary>
    internal sealed class RetainedValues(ReadOnlyMemory<float> values, ModelParameters owner) : IDisposable
    {
        private ModelParameters? _owner = owner;

        /// <summary>The values.</summary>
        public ReadOnlyMemory<float> Values { get; } = values;

        /// <inheritdoc />
        public void Dispose() => Interlocked.Exchange(ref _owner, null)?.Release();
    }
}
