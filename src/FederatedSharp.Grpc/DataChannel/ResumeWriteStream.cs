using System.IO.Hashing;

namespace FederatedSharp.Grpc.DataChannel;

/// <summary>
/// What a model body is written to on one connection: it hashes every byte from the start of the body (unless the
/// format checksums itself), drops the
/// bytes the receiver already has, and sends the rest keeping at most one window beyond the receiver's acknowledgements.
/// </summary>
internal sealed class ResumeWriteStream(Stream connection, long skip, AckWindow window, int windowBytes, int maxWrite, bool hash, Action<int>? sent = null) : Stream
{
    private readonly XxHash3? _hash = hash ? new XxHash3() : null;
    private long _position;

    /// <summary>XxHash3 of every byte written so far, from the first byte of the body (0 when not hashing).</summary>
    public ulong Checksum => _hash?.GetCurrentHashAsUInt64() ?? 0;

    /// <summary>Body bytes sent on this connection.</summary>
    public long Sent { get; private set; }

    public override bool CanRead => false;

    public override bool CanSeek => false;

    public override bool CanWrite => true;

    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => _position;
        set => throw new NotSupportedException();
    }

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        _hash?.Append(buffer.Span);
        long start = _position;
        _position += buffer.Length;
        if (_position <= skip)
        {
            return;
        }

        ReadOnlyMemory<byte> rest = start >= skip ? buffer : buffer[(int)(skip - start)..];
        long at = Math.Max(start, skip);
        while (!rest.IsEmpty)
        {
            int count = Math.Min(rest.Length, maxWrite);
            await window.WaitForAsync(at + count - windowBytes, null, cancellationToken).ConfigureAwait(false);
            await connection.WriteAsync(rest[..count], cancellationToken).ConfigureAwait(false);
            rest = rest[count..];
            at += count;
            Sent += count;
            sent?.Invoke(count);
        }
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override void Write(byte[] buffer, int offset, int count) => WriteAsync(buffer, offset, count).GetAwaiter().GetResult();

    public override Task FlushAsync(CancellationToken cancellationToken) => connection.FlushAsync(cancellationToken);

    public override void Flush() => connection.Flush();

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();
}
