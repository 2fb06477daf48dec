using FederatedSharp.Parameters;
using FederatedSharp.Serialization;

namespace FederatedSharp.Grpc.Streaming;

/// <summary>
/// The model a client sends back. Where the serializer knows the length up front, the body is the model itself and
/// is serialized while it is sent (again from the start after a cut: serialization is deterministic), so the client
/// never holds a serialized copy; otherwise it is serialized once into chunks. It owns what it sends and disposes it.
/// </summary>
internal sealed class UploadBody : IDisposable
{
    private readonly ModelParameters _parameters;
    private readonly IModelSerializer _serializer;
    private readonly IDisposable _owner;
    private ChunkedPayload? _payload;

    private UploadBody(ModelParameters parameters, IModelSerializer serializer, IDisposable owner, long length, ChunkedPayload? payload)
    {
        _parameters = parameters;
        _serializer = serializer;
        _owner = owner;
        Length = length;
        _payload = payload;
    }

    /// <summary>The body's length in bytes.</summary>
    public long Length { get; }

    /// <summary>Creates the body of <paramref name="parameters"/>, owned (and disposed with the body) by <paramref name="owner"/>.</summary>
    public static UploadBody Create(ModelParameters parameters, IModelSerializer serializer, IDisposable owner, int chunkBytes)
    {
        if (serializer.TryGetSerializedLength(parameters, out long length))
        {
            return new UploadBody(parameters, serializer, owner, length, null);
        }

        var payload = new ChunkedPayload(chunkBytes);
        serializer.Serialize(parameters, payload);
        payload.Complete();
        return new UploadBody(parameters, serializer, owner, payload.Length, payload);
    }

    /// <summary>Writes the whole body from its first byte.</summary>
    public async Task WriteToAsync(Stream destination, CancellationToken cancellationToken)
    {
        if (_payload is null)
        {
            await _serializer.SerializeAsync(_parameters, destination, cancellationToken).ConfigureAwait(false);
            return;
        }

        foreach (ReadOnlyMemory<byte> slice in _payload.Slices(1 << 20))
        {
            await destination.WriteAsync(slice, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>The body serialized into chunks (for gRPC messages); serialized on first use.</summary>
    public ChunkedPayload ToPayload(int chunkBytes)
    {
        if (_payload is null)
        {
            _payload = new ChunkedPayload(chunkBytes);
            _serializer.Serialize(_parameters, _payload);
            _payload.Complete();
        }

        return _payload;
    }

    public void Dispose() => _owner.Dispose();
}
