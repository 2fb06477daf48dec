using System.Buffers;

namespace FederatedSharp.Grpc.Streaming;

/// <summary>
/// A serialized model held as a list of chunk-sized arrays, so payloads larger than 2 GiB fit and each chunk can be
/// sent as one message without copying.
/// </summary>
internal sealed class ChunkedPayload : IBufferWriter<byte>
{
    private readonly int _chunkBytes;
    private readonly List<(byte[] Array, int Length)> _sealed = new();
    private byte[]? _current;
    private int _used;

    public ChunkedPayload(int chunkBytes)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(chunkBytes);
        _chunkBytes = chunkBytes;
    }

    public long Length { get; private set; }

    public void Advance(int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        if (_current is null || _used + count > _current.Length)
        {
            throw new InvalidOperationException("Advanced past the buffer that was handed out.");
        }

        _used += count;
        Length += count;
    }

    public Memory<byte> GetMemory(int sizeHint = 0) => Ensure(sizeHint).AsMemory(_used);

    public Span<byte> GetSpan(int sizeHint = 0) => Ensure(sizeHint).AsSpan(_used);

    /// <summary>Seals the last chunk; call once writing is done.</summary>
    public ChunkedPayload Complete()
    {
        Seal();
        return this;
    }

    /// <summary>The payload as messages of at most <paramref name="maxBytes"/> bytes each.</summary>
    public IEnumerable<ReadOnlyMemory<byte>> Slices(int maxBytes)
    {
        foreach ((byte[] array, int length) in _sealed)
        {
            for (int offset = 0; offset < length; offset += maxBytes)
            {
                yield return array.AsMemory(offset, Math.Min(maxBytes, length - offset));
            }
        }
    }

    /// <summary>The payload from <paramref name="offset"/> on, as messages of at most <paramref name="maxBytes"/> bytes each.</summary>
    public IEnumerable<ReadOnlyMemory<byte>> Slices(long offset, int maxBytes)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(offset, Length);
        foreach ((byte[] array, int length) in _sealed)
        {
            if (offset >= length)
            {
                offset -= length;
                continue;
            }

            for (int at = (int)offset; at < length; at += maxBytes)
            {
                yield return array.AsMemory(at, Math.Min(maxBytes, length - at));
            }

            offset = 0;
        }
    }

    private byte[] Ensure(int sizeHint)
    {
        sizeHint = Math.Max(sizeHint, 1);
        if (_current is null || _current.Length - _used < sizeHint)
        {
            Seal();
            _current = GC.AllocateUninitializedArray<byte>(Math.Max(_chunkBytes, sizeHint));
            _used = 0;
        }

        return _current;
    }

    private void Seal()
    {
        if (_current is not null && _used > 0)
        {
            _sealed.Add((_current, _used));
        }

        _current = null;
        _used = 0;
    }
}
