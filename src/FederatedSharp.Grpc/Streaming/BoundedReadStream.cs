using FederatedSharp.Parameters;
using FederatedSharp.Serialization;

namespace FederatedSharp.Grpc.Streaming;

/// <summary>
/// A forward-only read stream of a payload whose size was announced up front: it counts what it delivered and can
/// check, once the reader is done, that exactly the announced bytes arrived. gRPC chunks and data-channel connections
/// both feed a deserializer through it.
/// </summary>
internal abstract class BoundedReadStream : Stream
{
    /// <summary>Bytes delivered to the reader so far.</summary>
    public abstract long Received { get; }

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => throw new NotSupportedException();
        set => throw new NotSupportedException();
    }

    /// <summary>Checks that the peer sent exactly the announced bytes and nothing after them.</summary>
    /// <exception cref="InvalidDataException">Bytes are missing or extra.</exception>
    /// <exception cref="TimeoutException">The peer went silent.</exception>
    public abstract Task EnsureCompleteAsync(CancellationToken cancellationToken);

    /// <summary>Deserializes the payload and checks that nothing is missing or left over; the model is the caller's.</summary>
    /// <exception cref="InvalidDataException">Bytes are missing, extra or corrupt.</exception>
    /// <exception cref="ModelFormatException">The payload is not a valid model.</exception>
    public async Task<ModelParameters> ReadModelAsync(IModelSerializer serializer, long length, CancellationToken cancellationToken)
    {
        ModelParameters parameters = await serializer.DeserializeAsync(this, length, cancellationToken).ConfigureAwait(false);
        try
        {
            await EnsureCompleteAsync(cancellationToken).ConfigureAwait(false);
            return parameters;
        }
        catch
        {
            parameters.Dispose();
            throw;
        }
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer, offset, count, CancellationToken.None).GetAwaiter().GetResult();

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
