namespace FederatedSharp.Grpc.Streaming;

/// <summary>
/// A read-only stream over chunks arriving as gRPC messages. It enforces the size announced up front (no more bytes than
/// announced, and exactly that many at the end) and a timeout per chunk, so a slow or lying peer cannot hold a
/// deserializer forever or make it read unbounded data.
/// </summary>
internal sealed class ChunkReadStream : BoundedReadStream
{
    private readonly Func<CancellationToken, Task<ReadOnlyMemory<byte>?>> _next;
    private readonly long _expected;
    private readonly TimeSpan _chunkTimeout;
    private readonly TimeProvider _time;
    private readonly string _what;
    private ReadOnlyMemory<byte> _current;
    private bool _ended;
    private long _received;

    public ChunkReadStream(Func<CancellationToken, Task<ReadOnlyMemory<byte>?>> next, long expectedBytes, TimeSpan chunkTimeout, string what, TimeProvider time)
    {
        _next = next;
        _expected = expectedBytes;
        _chunkTimeout = chunkTimeout;
        _time = time;
        _what = what;
    }

    public override long Received => _received;

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        while (_current.IsEmpty)
        {
            if (_ended || !await MoveNextAsync(cancellationToken).ConfigureAwait(false))
            {
                return 0;
            }
        }

        int count = Math.Min(buffer.Length, _current.Length);
        _current.Span[..count].CopyTo(buffer.Span);
        _current = _current[count..];
        return count;
    }

    /// <inheritdoc />
    public override async Task EnsureCompleteAsync(CancellationToken cancellationToken)
    {
        if (!_current.IsEmpty || (!_ended && await MoveNextAsync(cancellationToken).ConfigureAwait(false)))
        {
            throw new InvalidDataException($"The {_what} has bytes after the end of the model.");
        }

        if (Received != _expected)
        {
            throw new InvalidDataException($"The {_what} ended after {Received} bytes; {_expected} were announced.");
        }
    }

    private async Task<bool> MoveNextAsync(CancellationToken cancellationToken)
    {
        using var deadline = new CancellationTokenSource(_chunkTimeout, _time);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, deadline.Token);
        ReadOnlyMemory<byte>? chunk;
        try
        {
            chunk = await _next(timeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new TimeoutException($"No chunk of the {_what} arrived within {_chunkTimeout.TotalSeconds:0.#} s.");
        }

        if (chunk is null)
        {
            _ended = true;
            if (Received != _expected)
            {
                throw new InvalidDataException($"The {_what} is truncated: {Received} of {_expected} announced bytes arrived.");
            }

            return false;
        }

        _received += chunk.Value.Length;
        if (_received > _expected)
        {
            throw new InvalidDataException($"The {_what} is longer than the {_expected} bytes announced.");
        }

        _current = chunk.Value;
        return true;
    }
}
