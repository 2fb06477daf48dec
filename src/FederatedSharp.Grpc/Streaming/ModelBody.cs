using FederatedSharp.Parameters;
using FederatedSharp.Serialization;

namespace FederatedSharp.Grpc.Streaming;

/// <summary>
/// A model on its way over the wire (a client's update, the server's global model on the data channel). Where the
/// serializer knows the length up front, the body is the model itself, serialized while it is sent (again from the
/// start after a cut: serialization is deterministic), so the sender holds no serialized copy; otherwise it is
/// serialized once into chunks. Disposing it disposes what it was given to own.
/// </summary>
internal sealed class ModelBody : IDisposable
{
    private readonly ModelParameters? _parameters;
    private readonly IModelSerializer? _serializer;
    private readonly IDisposable? _owner;
    private ChunkedPayload? _payload;

    private ModelBody(ModelParameters? parameters, IModelSerializer? serializer, IDisposable? owner, long length, ChunkedPayload? payload)
    {
        _parameters = parameters;
        _serializer = serializer;
        _owner = owner;
        Length = length;
        _payload = payload;
    }

    /// <summary>The body's length in bytes.</summary>
    public long Length { get; }

    /// <summary>
    /// The body of <paramref name="parameters"/>: streamed when the serializer knows its length, otherwise serialized by
    /// <paramref name="serialize"/> (default: into new chunks). <paramref name="owner"/> is disposed with the body.
    /// </summary>
    public static ModelBody Create(ModelParameters parameters, IModelSerializer serializer, IDisposable? owner, int chunkBytes, Func<ChunkedPayload>? serialize = null)
    {
        if (serializer.TryGetSerializedLength(parameters, out long length))
        {
            return new ModelBody(parameters, serializer, owner, length, null);
        }

        ChunkedPayload payload = serialize?.Invoke() ?? Serialize(parameters, serializer, chunkBytes);
        return new ModelBody(parameters, serializer, owner, payload.Length, payload);
    }

    /// <summary>Writes the whole body from its first byte.</summary>
    public async Task WriteToAsync(Stream destination, CancellationToken cancellationToken)
    {
        if (_payload is null)
        {
            await _serializer!.SerializeAsync(_parameters!, destination, cancellationToken).ConfigureAwait(false);
            return;
        }

        foreach (ReadOnlyMemory<byte> slice in _payload.Slices(1 << 20))
        {
            await destination.WriteAsync(slice, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>The body serialized into chunks (for gRPC messages); serialized on first use.</summary>
    public ChunkedPayload ToPayload(int chunkBytes) => _payload ??= Serialize(_parameters!, _serializer!, chunkBytes);

    public void Dispose() => _owner?.Dispose();

    private static ChunkedPayload Serialize(ModelParameters parameters, IModelSerializer serializer, int chunkBytes)
    {
        var payload = new ChunkedPayload(chunkBytes);
        serializer.Serialize(parameters, payload);
        return payload.Complete();
    }
}
