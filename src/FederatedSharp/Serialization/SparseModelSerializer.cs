using System.Buffers;
using System.Buffers.Binary;
using System.IO.Hashing;
using System.Text;
using FederatedSharp.Parameters;

namespace FederatedSharp.Serialization;

/// <summary>
/// A lossless float32 format that leaves out zeros (of either sign; they read back as +0): each tensor is stored
/// dense, as the indices of its non-zero values, or as a bitmap of them, whichever is smallest, and its values in 16
/// bits when every one of them is exactly a float16 (a <see cref="Compression.TopKUpdateClient"/> rounds what it sends
/// so, and carries the rounding in its residual). Top-k sparsified updates (1% of the values kept) take about
/// 2% of their dense size, and a dense model costs 5 bytes per tensor more than float32, so one federation can send
/// dense models down and sparse updates up with one format. The payload ends with its XxHash3, checked before anything
/// is parsed; every count and index is checked against the layout and the limits of
/// <see cref="BinaryModelSerializerOptions"/>.
/// </summary>
public sealed class SparseModelSerializer : IModelSerializer
{
    private static ReadOnlySpan<byte> Magic => "FSSP"u8;

    private readonly BinaryModelSerializerOptions _options;

    /// <summary>Creates the serializer.</summary>
    /// <param name="options">Limits (its <see cref="BinaryModelSerializerOptions.Encoding"/> is ignored); null for defaults.</param>
    public SparseModelSerializer(BinaryModelSerializerOptions? options = null)
    {
        _options = options ?? new BinaryModelSerializerOptions();
        _options.Validate();
    }

    /// <inheritdoc />
    public string Format => "fssp-v1";

    /// <inheritdoc />
    public bool ChecksumsPayload => true;

    /// <inheritdoc />
    public bool TryGetSerializedLength(ModelParameters parameters, out long length)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        length = HeaderLength(parameters.Layout) + 8;
        for (int t = 0; t < parameters.Layout.Count; t++)
        {
            length += SparseTensorCodec.EncodedBytes(parameters.GetTensor(t));
        }

        return true;
    }

    /// <inheritdoc />
    public void Serialize(ModelParameters parameters, IBufferWriter<byte> destination)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        ArgumentNullException.ThrowIfNull(destination);
        var hash = new XxHash3();
        byte[] header = BuildHeader(parameters.Layout);
        SparseTensorCodec.Put(destination, header, hash);
        for (int t = 0; t < parameters.Layout.Count; t++)
        {
            SparseTensorCodec.WriteTensor(parameters.GetTensor(t), destination, hash);
        }

        Span<byte> checksum = destination.GetSpan(8)[..8];
        BinaryPrimitives.WriteUInt64LittleEndian(checksum, hash.GetCurrentHashAsUInt64());
        destination.Advance(8);
    }

    /// <inheritdoc />
    /// <remarks>The payload is assembled in memory first (it is small for the sparse updates it is meant for).</remarks>
    public async Task SerializeAsync(ModelParameters parameters, Stream destination, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(destination);
        var buffer = new ArrayBufferWriter<byte>();
        Serialize(parameters, buffer);
        await destination.WriteAsync(buffer.WrittenMemory, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public Task<ModelParameters> DeserializeAsync(Stream source, CancellationToken cancellationToken = default) => DeserializeAsync(source, -1, cancellationToken);

    /// <inheritdoc />
    public async Task<ModelParameters> DeserializeAsync(Stream source, long payloadLength, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(source);
        long limit = MaxPayloadBytes();
        if (payloadLength > limit)
        {
            throw new ModelFormatException($"Oversized sparse payload: {payloadLength} bytes announced, the limit is {limit}.");
        }

        using var buffer = new MemoryStream();
        byte[] chunk = ArrayPool<byte>.Shared.Rent(1 << 16);
        try
        {
            int read;
            while ((read = await source.ReadAsync(chunk, cancellationToken).ConfigureAwait(false)) > 0)
            {
                if (buffer.Length + read > limit || (payloadLength >= 0 && buffer.Length + read > payloadLength))
                {
                    throw new ModelFormatException($"The sparse payload is longer than {(payloadLength >= 0 ? payloadLength : limit)} bytes.");
                }

                buffer.Write(chunk, 0, read);
                if (payloadLength >= 0 && buffer.Length == payloadLength)
                {
                    break;
                }
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(chunk);
        }

        return Deserialize(new ReadOnlySequence<byte>(buffer.GetBuffer(), 0, (int)buffer.Length));
    }

    /// <inheritdoc />
    public ModelParameters Deserialize(ReadOnlySequence<byte> payload)
    {
        byte[] bytes = payload.ToArray();
        if (bytes.Length < 12 + 8)
        {
            throw new ModelFormatException($"Truncated sparse payload: {bytes.Length} bytes.");
        }

        ReadOnlySpan<byte> body = bytes.AsSpan(0, bytes.Length - 8);
        ulong stored = BinaryPrimitives.ReadUInt64LittleEndian(bytes.AsSpan(bytes.Length - 8));
        if (XxHash3.HashToUInt64(body) != stored)
        {
            throw new ModelFormatException("Corrupt sparse payload: the checksum does not match.");
        }

        var reader = new SparseSpanReader(body);
        TensorLayout layout = ReadHeader(ref reader);
        ModelParameters parameters = ModelParameters.Create(layout);
        try
        {
            for (int t = 0; t < layout.Count; t++)
            {
                SparseTensorCodec.ReadTensor(ref reader, parameters.GetTensor(t), layout.Tensors[t].Name);
            }

            if (!reader.IsEmpty)
            {
                throw new ModelFormatException($"The sparse payload has {reader.Remaining} bytes after its last tensor.");
            }

            return parameters;
        }
        catch
        {
            parameters.Dispose();
            throw;
        }
    }

    private long MaxPayloadBytes() => Math.Min(Array.MaxLength, (4L * _options.MaxParameterCount) + (16L * _options.MaxTensorCount) + _options.MaxHeaderBytes + 8);

    private static long HeaderLength(TensorLayout layout) =>
        4 + 4 + layout.Tensors.Sum(t => 2 + Encoding.UTF8.GetByteCount(t.Name) + 1 + (4L * t.Shape.Count));

    private static byte[] BuildHeader(TensorLayout layout)
    {
        byte[] header = new byte[HeaderLength(layout)];
        Magic.CopyTo(header);
        BinaryPrimitives.WriteInt32LittleEndian(header.AsSpan(4), layout.Count);
        int at = 8;
        foreach (TensorSpec tensor in layout.Tensors)
        {
            int nameBytes = Encoding.UTF8.GetBytes(tensor.Name, header.AsSpan(at + 2));
            BinaryPrimitives.WriteUInt16LittleEndian(header.AsSpan(at), (ushort)nameBytes);
            at += 2 + nameBytes;
            header[at++] = (byte)tensor.Shape.Count;
            foreach (int dimension in tensor.Shape)
            {
                BinaryPrimitives.WriteInt32LittleEndian(header.AsSpan(at), dimension);
                at += 4;
            }
        }

        return header;
    }

    private TensorLayout ReadHeader(ref SparseSpanReader reader)
    {
        if (!reader.Take(4, "magic").SequenceEqual(Magic))
        {
            throw new ModelFormatException("Not a sparse FederatedSharp payload (expected magic 'FSSP').");
        }

        int count = reader.Int();
        if (count < 0 || count > _options.MaxTensorCount)
        {
            throw new ModelFormatException($"Oversized sparse payload: {count} tensors declared, the limit is {_options.MaxTensorCount}.");
        }

        var tensors = new TensorSpec[count];
        long total = 0;
        for (int t = 0; t < count; t++)
        {
            int nameBytes = BinaryPrimitives.ReadUInt16LittleEndian(reader.Take(2, "name length"));
            if (nameBytes > _options.MaxNameBytes)
            {
                throw new ModelFormatException($"A tensor name of {nameBytes} bytes is over the limit of {_options.MaxNameBytes}.");
            }

            string name = Encoding.UTF8.GetString(reader.Take(nameBytes, "name"));
            int rank = reader.Byte();
            if (rank > _options.MaxRank)
            {
                throw new ModelFormatException($"Tensor '{name}' has rank {rank}; the limit is {_options.MaxRank}.");
            }

            int[] shape = new int[rank];
            long elements = 1;
            for (int d = 0; d < rank; d++)
            {
                shape[d] = reader.Int();
                elements *= shape[d] < 0 ? throw new ModelFormatException($"Tensor '{name}' has a negative dimension.") : shape[d];
                if (elements > _options.MaxParameterCount)
                {
                    break;
                }
            }

            total += elements;
            if (total > _options.MaxParameterCount)
            {
                throw new ModelFormatException($"Oversized sparse payload: more than {_options.MaxParameterCount} parameters declared.");
            }

            tensors[t] = new TensorSpec(name, shape);
        }

        return TensorLayout.Create(tensors);
    }
}
