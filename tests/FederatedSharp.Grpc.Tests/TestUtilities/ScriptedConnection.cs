namespace FederatedSharp.Grpc.Tests.TestUtilities;

/// <summary>
/// A connection as a stream: reads return the given bytes, then the end of the stream (a peer that closed); writes are
/// kept for the test to inspect. <see cref="Exhausted"/> completes when a read has hit the end.
/// </summary>
public sealed class ScriptedConnection(byte[] incoming) : Stream
{
    private readonly MemoryStream _incoming = new(incoming, writable: false);
    private readonly TaskCompletionSource _exhausted = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public MemoryStream Written { get; } = new();

    public Task Exhausted => _exhausted.Task;

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => true;

    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => throw new NotSupportedException();
        set => throw new NotSupportedException();
    }

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        int read = _incoming.Read(buffer.Span);
        if (read == 0)
        {
            _exhausted.TrySetResult();
        }

        return ValueTask.FromResult(read);
    }

    public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        lock (Written)
        {
            Written.Write(buffer.Span);
        }

        return ValueTask.CompletedTask;
    }

    public override void Write(byte[] buffer, int offset, int count) => WriteAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();
}
