using System.Buffers;
using FederatedSharp.Parameters;

namespace FederatedSharp.Serialization;

/// <summary>Turns <see cref="ModelParameters"/> into bytes and back. Deserialization trusts nothing it reads.</summary>
public interface IModelSerializer
{
    /// <summary>A short name of the format (for logs and negotiation).</summary>
    string Format { get; }

    /// <summary>Writes <paramref name="parameters"/> to <paramref name="destination"/>.</summary>
    /// <param name="parameters">The parameters.</param>
    /// <param name="destination">Where the bytes go.</param>
    void Serialize(ModelParameters parameters, IBufferWriter<byte> destination);

    /// <summary>
    /// True when the payload carries its own checksum over every byte and deserialization fails on a mismatch (a
    /// transport then need not hash the bytes again); the default implementation says false.
    /// </summary>
    bool ChecksumsPayload => false;

    /// <summary>
    /// The exact length <see cref="SerializeAsync"/> will write for <paramref name="parameters"/>, when the format can
    /// tell without writing (a transport then streams the model without holding a serialized copy); the default
    /// implementation cannot and returns false.
    /// </summary>
    /// <param name="parameters">The parameters.</param>
    /// <param name="length">The serialized length in bytes, when known.</param>
    /// <returns>True when <paramref name="length"/> is exact.</returns>
    bool TryGetSerializedLength(ModelParameters parameters, out long length)
    {
        length = 0;
        return false;
    }

    /// <summary>Reads parameters from a complete payload.</summary>
    /// <param name="payload">The bytes.</param>
    /// <returns>New parameters the caller owns.</returns>
    /// <exception cref="ModelFormatException">The payload is truncated, corrupt, oversized or not in this format.</exception>
    ModelParameters Deserialize(ReadOnlySequence<byte> payload);

    /// <summary>Writes <paramref name="parameters"/> to a stream, in chunks (no full copy of the model).</summary>
    /// <param name="parameters">The parameters.</param>
    /// <param name="destination">The stream.</param>
    /// <param name="cancellationToken">Cancels the write.</param>
    /// <returns>A task that completes when everything is written.</returns>
    Task SerializeAsync(ModelParameters parameters, Stream destination, CancellationToken cancellationToken = default);

    /// <summary>Reads parameters from a stream, checking sizes against the limits before allocating.</summary>
    /// <param name="source">The stream.</param>
    /// <param name="cancellationToken">Cancels the read.</param>
    /// <returns>New parameters the caller owns.</returns>
    /// <exception cref="ModelFormatException">The payload is truncated, corrupt, oversized or not in this format.</exception>
    Task<ModelParameters> DeserializeAsync(Stream source, CancellationToken cancellationToken = default);

    /// <summary>
    /// Deserializes from a stream whose total length is known up front (a transport that announced the size). A serializer
    /// that can compute the length its header implies rejects a mismatch before allocating, so a tiny payload cannot make
    /// it allocate for a huge model; the default implementation ignores the length.
    /// </summary>
    /// <param name="source">The stream.</param>
    /// <param name="payloadLength">The payload's total length in bytes.</param>
    /// <param name="cancellationToken">Cancels reading.</param>
    /// <returns>New parameters the caller owns.</returns>
    /// <exception cref="ModelFormatException">The payload is truncated, corrupt, oversized, not in this format, or its header does not match <paramref name="payloadLength"/>.</exception>
    Task<ModelParameters> DeserializeAsync(Stream source, long payloadLength, CancellationToken cancellationToken) => DeserializeAsync(source, cancellationToken);
}
