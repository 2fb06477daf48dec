using System.Buffers;
using System.Buffers.Binary;
using System.IO.Hashing;
using System.Runtime.InteropServices;
using System.Text;
using FederatedSharp.Parameters;

namespace FederatedSharp.Serialization;

/// <summary>
/// FederatedSharp's versioned binary format (little-endian):
/// <code>
/// offset  size  field
///  0      4     magic "FSMP"
///  4      2     format version (2; version 1 payloads, checksummed with XxHash64, are read too)
///  6      1     element encoding (1 float32, 2 float16, 3 bfloat16, 4 int8 with a float32 scale per tensor,
///                5 int4 and 6 nf4 in blocks of 64 values, each block led by its float32 absolute maximum)
///  7      1     reserved (0)
///  8      4     tensor count T
/// 12      4     tensor table length H in bytes
/// 16      H     T x { u16 name length, UTF-8 name, u8 rank, rank x i32 dimension }
/// 16+H    8     element count N (must equal the table's total)
/// 24+H    D     values, tensor by tensor (int8: each tensor's 4-byte scale, then its bytes)
/// 24+H+D  8     XxHash3 of every preceding byte (version 1: XxHash64)
/// </code>
/// Reading checks every size against <see cref="BinaryModelSerializerOptions"/> before allocating, and reports
/// truncation, corruption (checksum), oversize and foreign formats with a <see cref="ModelFormatException"/>.
/// </summary>
public sealed partial class BinaryModelSerializer : IModelSerializer
{
    /// <summary>The format version this serializer writes (it reads versions 1 and 2).</summary>
    public const ushort Version = 2;

    private const int PreambleLength = 16;
    private const int ChunkBytes = 1 << 20;
    private static ReadOnlySpan<byte> Magic => "FSMP"u8;

    private readonly BinaryModelSerializerOptions _options;

    /// <summary>Creates a serializer.</summary>
    /// <param name="options">Limits; null for defaults.</param>
    /// <exception cref="ArgumentOutOfRangeException">A limit is out of range.</exception>
    public BinaryModelSerializer(BinaryModelSerializerOptions? options = null)
    {
        _options = options ?? new BinaryModelSerializerOptions();
        _options.Validate();
    }

    /// <inheritdoc />
    public string Format => "fsmp-v2-" + _options.Encoding.ToString().ToLowerInvariant();

    /// <summary>The encoding this serializer writes (it reads every encoding).</summary>
    public ElementEncoding Encoding => _options.Encoding;

    /// <summary>The number of bytes <paramref name="parameters"/> take in this format.</summary>
    /// <param name="parameters">The parameters.</param>
    /// <param name="encoding">The value encoding (default float32).</param>
    /// <returns>The size in bytes.</returns>
    public static long GetSerializedLength(ModelParameters parameters, ElementEncoding encoding = ElementEncoding.Float32)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        return PreambleLength + TableLength(parameters.Layout) + 8 + DataLength(parameters.Layout, encoding) + 8;
    }

    private static long DataLength(TensorLayout layout, ElementEncoding encoding) =>
        layout.Tensors.Sum(t => ElementCodec.EncodedBytes(encoding, t.ElementCount)) + ((long)ElementCodec.TensorHeaderBytes(encoding) * layout.Count);

    // Values per chunk: 1 MiB of float32, a whole number of quantization blocks.
    private const int ChunkValues = ChunkBytes / 4;

    private static int Bytes(ElementEncoding encoding, int count) => (int)ElementCodec.EncodedBytes(encoding, count);

    /// <inheritdoc />
    public void Serialize(ModelParameters parameters, IBufferWriter<byte> destination)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        ArgumentNullException.ThrowIfNull(destination);
        var hasher = new PayloadHash(Version);
        byte[] header = BuildHeader(parameters.Layout, _options.Encoding);
        Write(destination, header, hasher);
        ElementEncoding encoding = _options.Encoding;
        for (int t = 0; t < parameters.Layout.Count; t++)
        {
            ReadOnlySpan<float> values = parameters.GetTensor(t);
            float scale = 1;
            if (encoding == ElementEncoding.Int8)
            {
                scale = ElementCodec.Int8Scale(values, parameters.Layout.Tensors[t].Name);
                Span<byte> scaleBytes = destination.GetSpan(4)[..4];
                BinaryPrimitives.WriteSingleLittleEndian(scaleBytes, scale);
                hasher.Append(scaleBytes);
                destination.Advance(4);
            }

            while (!values.IsEmpty)
            {
                int count = Math.Min(values.Length, ChunkValues);
                Span<byte> target = destination.GetSpan(Bytes(encoding, count))[..Bytes(encoding, count)];
                ElementCodec.Encode(values[..count], target, encoding, scale, parameters.Layout.Tensors[t].Name);
                hasher.Append(target);
                destination.Advance(target.Length);
                values = values[count..];
            }
        }

        Span<byte> checksum = destination.GetSpan(8)[..8];
        BinaryPrimitives.WriteUInt64LittleEndian(checksum, hasher.Current);
        destination.Advance(8);
    }

    /// <summary>Serializes into a new array (convenience for small models).</summary>
    /// <param name="parameters">The parameters.</param>
    /// <returns>The bytes.</returns>
    public byte[] SerializeToArray(ModelParameters parameters)
    {
        var writer = new ArrayBufferWriter<byte>((int)Math.Min(GetSerializedLength(parameters, _options.Encoding), Array.MaxLength));
        Serialize(parameters, writer);
        return writer.WrittenSpan.ToArray();
    }

    /// <inheritdoc />
    public ModelParameters Deserialize(ReadOnlySequence<byte> payload)
    {
        var reader = new SequenceReader<byte>(payload);
        Span<byte> preamble = stackalloc byte[PreambleLength];
        if (!reader.TryCopyTo(preamble))
        {
            throw Truncated("preamble", PreambleLength, reader.Remaining);
        }

        reader.Advance(PreambleLength);
        int tableLength = CheckPreamble(preamble, out int tensorCount, out ElementEncoding encoding, out ushort version);
        var hasher = new PayloadHash(version);
        hasher.Append(preamble);
        if (reader.Remaining < tableLength + 8)
        {
            throw Truncated("tensor table", tableLength + 8, reader.Remaining);
        }

        byte[] table = new byte[tableLength + 8];
        reader.TryCopyTo(table);
        reader.Advance(table.Length);
        hasher.Append(table);
        TensorLayout layout = ParseTable(table, tensorCount);
        long dataBytes = DataLength(layout, encoding);
        if (reader.Remaining < dataBytes + 8)
        {
            throw Truncated("tensor data and checksum", dataBytes + 8, reader.Remaining);
        }

        ModelParameters parameters = ModelParameters.CreateUninitialized(layout);
        byte[] chunk = ArrayPool<byte>.Shared.Rent(ChunkBytes);
        try
        {
            for (int t = 0; t < layout.Count; t++)
            {
                float scale = 1;
                if (encoding == ElementEncoding.Int8)
                {
                    reader.TryCopyTo(chunk.AsSpan(0, 4));
                    reader.Advance(4);
                    hasher.Append(chunk.AsSpan(0, 4));
                    scale = ReadScale(chunk, layout.Tensors[t].Name);
                }

                Span<float> values = parameters.GetTensor(t);
                while (!values.IsEmpty)
                {
                    int count = Math.Min(values.Length, ChunkValues);
                    Span<byte> bytes = chunk.AsSpan(0, Bytes(encoding, count));
                    reader.TryCopyTo(bytes);
                    reader.Advance(bytes.Length);
                    hasher.Append(bytes);
                    ElementCodec.Decode(bytes, values[..count], encoding, scale, layout.Tensors[t].Name);
                    values = values[count..];
                }
            }

            Span<byte> checksum = stackalloc byte[8];
            reader.TryCopyTo(checksum);
            reader.Advance(8);
            VerifyChecksum(hasher, checksum);
            if (reader.Remaining != 0)
            {
                throw new ModelFormatException($"Corrupt model payload: {reader.Remaining} unexpected bytes after the checksum.");
            }

            return parameters;
        }
        catch
        {
            parameters.Dispose();
            throw;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(chunk);
        }
    }

    private static float ReadScale(byte[] bytes, string tensor)
    {
        float scale = BinaryPrimitives.ReadSingleLittleEndian(bytes);
        if (!float.IsFinite(scale) || scale <= 0)
        {
            throw new ModelFormatException($"Corrupt model payload: tensor '{tensor}' has int8 scale {scale}.");
        }

        return scale;
    }

    /// <summary>Reads parameters from a complete payload held in memory.</summary>
    /// <param name="payload">The bytes.</param>
    /// <returns>New parameters the caller owns.</returns>
    /// <exception cref="ModelFormatException">The payload is truncated, corrupt, oversized or not in this format.</exception>
    public ModelParameters Deserialize(ReadOnlyMemory<byte> payload) => Deserialize(new ReadOnlySequence<byte>(payload));

    /// <inheritdoc />
    /// <remarks>FSMP ends with the XxHash3 (version 1: XxHash64) of everything before it, checked before deserialization returns.</remarks>
    public bool ChecksumsPayload => true;

    /// <inheritdoc />
    public bool TryGetSerializedLength(ModelParameters parameters, out long length)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        length = GetSerializedLength(parameters, _options.Encoding);
        return true;
    }

    /// <inheritdoc />
    public async Task SerializeAsync(ModelParameters parameters, Stream destination, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        ArgumentNullException.ThrowIfNull(destination);
        var hasher = new PayloadHash(Version);
        ElementEncoding encoding = _options.Encoding;
        byte[] header = BuildHeader(parameters.Layout, encoding);
        hasher.Append(header);
        await destination.WriteAsync(header, cancellationToken).ConfigureAwait(false);
        byte[] chunk = ArrayPool<byte>.Shared.Rent(ChunkBytes);
        try
        {
            for (int t = 0; t < parameters.Layout.Count; t++)
            {
                int offset = parameters.Layout.GetOffset(t);
                int end = offset + parameters.Layout.Tensors[t].ElementCount;
                float scale = 1;
                if (encoding == ElementEncoding.Int8)
                {
                    scale = ElementCodec.Int8Scale(parameters.GetTensor(t), parameters.Layout.Tensors[t].Name);
                    BinaryPrimitives.WriteSingleLittleEndian(chunk, scale);
                    hasher.Append(chunk.AsSpan(0, 4));
                    await destination.WriteAsync(chunk.AsMemory(0, 4), cancellationToken).ConfigureAwait(false);
                }

                while (offset < end)
                {
                    int count = Math.Min(end - offset, ChunkValues);
                    ElementCodec.Encode(parameters.Values.Slice(offset, count), chunk, encoding, scale, parameters.Layout.Tensors[t].Name);
                    hasher.Append(chunk.AsSpan(0, Bytes(encoding, count)));
                    await destination.WriteAsync(chunk.AsMemory(0, Bytes(encoding, count)), cancellationToken).ConfigureAwait(false);
                    offset += count;
                }
            }

            BinaryPrimitives.WriteUInt64LittleEndian(chunk, hasher.Current);
            await destination.WriteAsync(chunk.AsMemory(0, 8), cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(chunk);
        }
    }

    /// <inheritdoc />
    public Task<ModelParameters> DeserializeAsync(Stream source, CancellationToken cancellationToken = default) => DeserializeCoreAsync(source, null, cancellationToken);

    /// <inheritdoc />
    public Task<ModelParameters> DeserializeAsync(Stream source, long payloadLength, CancellationToken cancellationToken) =>
        DeserializeCoreAsync(source, payloadLength, cancellationToken);

    private async Task<ModelParameters> DeserializeCoreAsync(Stream source, long? payloadLength, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(source);
        byte[] preamble = new byte[PreambleLength];
        await ReadExactlyAsync(source, preamble, "preamble", cancellationToken).ConfigureAwait(false);
        int tableLength = CheckPreamble(preamble, out int tensorCount, out ElementEncoding encoding, out ushort version);
        var hasher = new PayloadHash(version);
        hasher.Append(preamble);
        byte[] table = new byte[tableLength + 8];
        await ReadExactlyAsync(source, table, "tensor table", cancellationToken).ConfigureAwait(false);
        hasher.Append(table);
        TensorLayout layout = ParseTable(table, tensorCount);
        long implied = PreambleLength + table.Length + DataLength(layout, encoding) + 8;
        if (payloadLength is long announced && announced != implied)
        {
            throw new ModelFormatException($"The header describes a {implied}-byte payload ({layout.TotalLength} parameters) but the payload is {announced} bytes.");
        }

        ModelParameters parameters = ModelParameters.CreateUninitialized(layout);
        byte[] chunk = ArrayPool<byte>.Shared.Rent(ChunkBytes);
        try
        {
            for (int t = 0; t < layout.Count; t++)
            {
                float scale = 1;
                if (encoding == ElementEncoding.Int8)
                {
                    await ReadExactlyAsync(source, chunk.AsMemory(0, 4), "tensor scale", cancellationToken).ConfigureAwait(false);
                    hasher.Append(chunk.AsSpan(0, 4));
                    scale = ReadScale(chunk, layout.Tensors[t].Name);
                }

                int offset = layout.GetOffset(t);
                int end = offset + layout.Tensors[t].ElementCount;
                while (offset < end)
                {
                    int count = Math.Min(end - offset, ChunkValues);
                    await ReadExactlyAsync(source, chunk.AsMemory(0, Bytes(encoding, count)), "tensor data", cancellationToken).ConfigureAwait(false);
                    hasher.Append(chunk.AsSpan(0, Bytes(encoding, count)));
                    ElementCodec.Decode(chunk.AsSpan(0, Bytes(encoding, count)), parameters.Values.Slice(offset, count), encoding, scale, layout.Tensors[t].Name);
                    offset += count;
                }
            }

            await ReadExactlyAsync(source, chunk.AsMemory(0, 8), "checksum", cancellationToken).ConfigureAwait(false);
            VerifyChecksum(hasher, chunk.AsSpan(0, 8));
            return parameters;
        }
        catch
        {
            parameters.Dispose();
            throw;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(chunk);
        }
    }

    private static async Task ReadExactlyAsync(Stream source, Memory<byte> buffer, string part, CancellationToken cancellationToken)
    {
        int read = await source.ReadAtLeastAsync(buffer, buffer.Length, throwOnEndOfStream: false, cancellationToken).ConfigureAwait(false);
        if (read < buffer.Length)
        {
            throw Truncated(part, buffer.Length, read);
        }
    }

    private static int TableLength(TensorLayout layout)
    {
        int length = 0;
        foreach (TensorSpec t in layout.Tensors)
        {
            length += 2 + System.Text.Encoding.UTF8.GetByteCount(t.Name) + 1 + (4 * t.Shape.Count);
        }

        return length;
    }

    private static byte[] BuildHeader(TensorLayout layout, ElementEncoding encoding)
    {
        int tableLength = TableLength(layout);
        byte[] header = new byte[PreambleLength + tableLength + 8];
        Span<byte> span = header;
        Magic.CopyTo(span);
        BinaryPrimitives.WriteUInt16LittleEndian(span[4..], Version);
        span[6] = (byte)encoding;
        span[7] = 0;
        BinaryPrimitives.WriteUInt32LittleEndian(span[8..], (uint)layout.Count);
        BinaryPrimitives.WriteUInt32LittleEndian(span[12..], (uint)tableLength);
        int position = PreambleLength;
        foreach (TensorSpec t in layout.Tensors)
        {
            int nameLength = System.Text.Encoding.UTF8.GetBytes(t.Name, span[(position + 2)..]);
            if (nameLength > ushort.MaxValue)
            {
                throw new ArgumentException($"Tensor name '{t.Name[..32]}...' is longer than 65,535 UTF-8 bytes.");
            }

            BinaryPrimitives.WriteUInt16LittleEndian(span[position..], (ushort)nameLength);
            position += 2 + nameLength;
            span[position++] = checked((byte)t.Shape.Count);
            foreach (int d in t.Shape)
            {
                BinaryPrimitives.WriteInt32LittleEndian(span[position..], d);
                position += 4;
            }
        }

        BinaryPrimitives.WriteUInt64LittleEndian(span[position..], (ulong)layout.TotalLength);
        return header;
    }

    private static void Write(IBufferWriter<byte> destination, ReadOnlySpan<byte> bytes, PayloadHash hasher)
    {
        hasher.Append(bytes);
        destination.Write(bytes);
    }

    private static ModelFormatException Truncated(string part, long expected, long available) =>
        new($"Truncated model payload: the {part} needs {expected} more bytes, only {available} remain.");
}
