using System.Buffers;
using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using FederatedSharp.Parameters;

namespace FederatedSharp.Serialization;

/// <summary>
/// The safetensors format (Hugging Face), readable by Python's <c>safetensors</c>/PyTorch and able to read their
/// files: an 8-byte little-endian header length N, N bytes of UTF-8 JSON
/// (<c>{"name": {"dtype": "F32", "shape": [..], "data_offsets": [begin, end]}, "__metadata__": {..}}</c>, padded with
/// spaces to a multiple of 8), then the raw little-endian tensor bytes. Reads F32, F16 and BF16 into float32 (tensors in
/// file order); writes the dtype of <see cref="SafetensorsOptions.DType"/>. Reading validates what the reference
/// implementation validates: header size and JSON, known dtypes, shapes matching byte ranges, ranges contiguous and
/// covering the data exactly, unique names.
/// </summary>
public sealed class SafetensorsSerializer : IModelSerializer
{
    private const int Alignment = 8;
    private readonly SafetensorsOptions _options;

    /// <summary>Creates a serializer.</summary>
    /// <param name="options">Settings; null for defaults.</param>
    /// <exception cref="ArgumentOutOfRangeException">A setting is out of range.</exception>
    public SafetensorsSerializer(SafetensorsOptions? options = null)
    {
        _options = options ?? new SafetensorsOptions();
        _options.Validate();
    }

    /// <inheritdoc />
    public string Format => "safetensors";

    /// <summary>The <c>__metadata__</c> of the last file read (empty when it had none).</summary>
    public IReadOnlyDictionary<string, string> LastMetadata { get; private set; } = new Dictionary<string, string>();

    /// <inheritdoc />
    public void Serialize(ModelParameters parameters, IBufferWriter<byte> destination)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        ArgumentNullException.ThrowIfNull(destination);
        destination.Write(BuildHeader(parameters.Layout));
        int bytesPerValue = ElementCodec.BytesPerValue(_options.DType);
        ReadOnlySpan<float> values = parameters.Values;
        while (!values.IsEmpty)
        {
            int count = Math.Min(values.Length, 256 * 1024);
            Span<byte> target = destination.GetSpan(count * bytesPerValue)[..(count * bytesPerValue)];
            ElementCodec.Encode(values[..count], target, _options.DType, 1);
            destination.Advance(target.Length);
            values = values[count..];
        }
    }

    /// <summary>Serializes into a new array.</summary>
    /// <param name="parameters">The parameters.</param>
    /// <returns>The bytes of a .safetensors file.</returns>
    public byte[] SerializeToArray(ModelParameters parameters)
    {
        var writer = new ArrayBufferWriter<byte>();
        Serialize(parameters, writer);
        return writer.WrittenSpan.ToArray();
    }

    /// <inheritdoc />
    public ModelParameters Deserialize(ReadOnlySequence<byte> payload)
    {
        var reader = new SequenceReader<byte>(payload);
        if (!reader.TryReadLittleEndian(out long headerLength))
        {
            throw new ModelFormatException($"Truncated safetensors file: {payload.Length} bytes, the 8-byte header length is missing.");
        }

        CheckHeaderLength(headerLength, reader.Remaining);
        byte[] header = new byte[headerLength];
        reader.TryCopyTo(header);
        reader.Advance(headerLength);
        (TensorLayout layout, ElementEncoding[] dtypes, long dataLength) = ParseHeader(header);
        if (reader.Remaining != dataLength)
        {
            throw new ModelFormatException($"Corrupt safetensors file: the header describes {dataLength} data bytes, the file holds {reader.Remaining}.");
        }

        ModelParameters parameters = ModelParameters.CreateUninitialized(layout);
        try
        {
            byte[] chunk = ArrayPool<byte>.Shared.Rent(1 << 20);
            try
            {
                for (int t = 0; t < layout.Count; t++)
                {
                    Span<float> values = parameters.GetTensor(t);
                    int bytesPerValue = ElementCodec.BytesPerValue(dtypes[t]);
                    while (!values.IsEmpty)
                    {
                        int count = Math.Min(values.Length, chunk.Length / 4);
                        Span<byte> bytes = chunk.AsSpan(0, count * bytesPerValue);
                        reader.TryCopyTo(bytes);
                        reader.Advance(bytes.Length);
                        ElementCodec.Decode(bytes, values[..count], dtypes[t], 1);
                        values = values[count..];
                    }
                }
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(chunk);
            }

            return parameters;
        }
        catch
        {
            parameters.Dispose();
            throw;
        }
    }

    /// <summary>Reads a complete .safetensors file held in memory.</summary>
    /// <param name="payload">The bytes.</param>
    /// <returns>New parameters the caller owns.</returns>
    /// <exception cref="ModelFormatException">The file is truncated or malformed.</exception>
    public ModelParameters Deserialize(ReadOnlyMemory<byte> payload) => Deserialize(new ReadOnlySequence<byte>(payload));

    /// <inheritdoc />
    public async Task SerializeAsync(ModelParameters parameters, Stream destination, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        ArgumentNullException.ThrowIfNull(destination);
        await destination.WriteAsync(BuildHeader(parameters.Layout), cancellationToken).ConfigureAwait(false);
        int bytesPerValue = ElementCodec.BytesPerValue(_options.DType);
        byte[] chunk = ArrayPool<byte>.Shared.Rent(1 << 20);
        try
        {
            for (int offset = 0; offset < parameters.Length;)
            {
                int count = Math.Min(parameters.Length - offset, chunk.Length / 4);
                ElementCodec.Encode(parameters.Values.Slice(offset, count), chunk, _options.DType, 1);
                await destination.WriteAsync(chunk.AsMemory(0, count * bytesPerValue), cancellationToken).ConfigureAwait(false);
                offset += count;
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(chunk);
        }
    }

    /// <inheritdoc />
    public async Task<ModelParameters> DeserializeAsync(Stream source, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(source);
        byte[] lengthBytes = new byte[8];
        await ReadExactlyAsync(source, lengthBytes, "header length", cancellationToken).ConfigureAwait(false);
        long headerLength = BinaryPrimitives.ReadInt64LittleEndian(lengthBytes);
        CheckHeaderLength(headerLength, long.MaxValue);
        byte[] header = new byte[headerLength];
        await ReadExactlyAsync(source, header, "header", cancellationToken).ConfigureAwait(false);
        (TensorLayout layout, ElementEncoding[] dtypes, _) = ParseHeader(header);
        ModelParameters parameters = ModelParameters.CreateUninitialized(layout);
        byte[] chunk = ArrayPool<byte>.Shared.Rent(1 << 20);
        try
        {
            for (int t = 0; t < layout.Count; t++)
            {
                int offset = layout.GetOffset(t);
                int end = offset + layout.Tensors[t].ElementCount;
                int bytesPerValue = ElementCodec.BytesPerValue(dtypes[t]);
                while (offset < end)
                {
                    int count = Math.Min(end - offset, chunk.Length / 4);
                    await ReadExactlyAsync(source, chunk.AsMemory(0, count * bytesPerValue), $"data of tensor '{layout.Tensors[t].Name}'", cancellationToken).ConfigureAwait(false);
                    ElementCodec.Decode(chunk.AsSpan(0, count * bytesPerValue), parameters.Values.Slice(offset, count), dtypes[t], 1);
                    offset += count;
                }
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

    private static string DTypeName(ElementEncoding encoding) => encoding switch
    {
        ElementEncoding.Float16 => "F16",
        ElementEncoding.BFloat16 => "BF16",
        _ => "F32",
    };

    private byte[] BuildHeader(TensorLayout layout)
    {
        using var json = new MemoryStream();
        using (var w = new Utf8JsonWriter(json))
        {
            w.WriteStartObject();
            if (_options.Metadata.Count > 0)
            {
                w.WriteStartObject("__metadata__");
                foreach ((string key, string value) in _options.Metadata.OrderBy(p => p.Key, StringComparer.Ordinal))
                {
                    w.WriteString(key, value);
                }

                w.WriteEndObject();
            }

            long offset = 0;
            int bytesPerValue = ElementCodec.BytesPerValue(_options.DType);
            foreach (TensorSpec t in layout.Tensors)
            {
                w.WriteStartObject(t.Name);
                w.WriteString("dtype", DTypeName(_options.DType));
                w.WriteStartArray("shape");
                foreach (int d in t.Shape)
                {
                    w.WriteNumberValue(d);
                }

                w.WriteEndArray();
                w.WriteStartArray("data_offsets");
                w.WriteNumberValue(offset);
                offset += (long)t.ElementCount * bytesPerValue;
                w.WriteNumberValue(offset);
                w.WriteEndArray();
                w.WriteEndObject();
            }

            w.WriteEndObject();
        }

        int length = (int)json.Length;
        int padded = (length + Alignment - 1) / Alignment * Alignment;
        byte[] header = new byte[8 + padded];
        BinaryPrimitives.WriteInt64LittleEndian(header, padded);
        json.ToArray().CopyTo(header, 8);
        header.AsSpan(8 + length).Fill((byte)' ');
        return header;
    }

    private void CheckHeaderLength(long headerLength, long remaining)
    {
        if (headerLength < 2 || headerLength > _options.MaxHeaderBytes)
        {
            throw new ModelFormatException($"Invalid safetensors header length {headerLength} (allowed 2..{_options.MaxHeaderBytes}).");
        }

        if (headerLength > remaining)
        {
            throw new ModelFormatException($"Truncated safetensors file: the header declares {headerLength} bytes, only {remaining} follow.");
        }
    }

    private (TensorLayout Layout, ElementEncoding[] DTypes, long DataLength) ParseHeader(byte[] header)
    {
        try
        {
            return ParseHeaderCore(header);
        }
        catch (Exception ex) when (ex is InvalidOperationException or ArgumentException or FormatException or OverflowException)
        {
            // For example names that are not valid UTF-8, or values of the wrong JSON kind.
            throw new ModelFormatException($"Corrupt safetensors header: {ex.Message}");
        }
    }

    private (TensorLayout Layout, ElementEncoding[] DTypes, long DataLength) ParseHeaderCore(byte[] header)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(header.AsMemory().TrimEnd((byte)' '));
        }
        catch (JsonException ex)
        {
            throw new ModelFormatException($"Corrupt safetensors header: not valid JSON ({ex.Message}).");
        }

        using (document)
        {
            if (document.RootElement.ValueKind != JsonValueKind.Object)
            {
                throw new ModelFormatException("Corrupt safetensors header: the JSON is not an object.");
            }

            var entries = new List<(string Name, ElementEncoding DType, int[] Shape, long Begin, long End)>();
            var names = new HashSet<string>(StringComparer.Ordinal);
            var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
            long total = 0;
            foreach (JsonProperty property in document.RootElement.EnumerateObject())
            {
                if (!names.Add(property.Name))
                {
                    throw new ModelFormatException($"Corrupt safetensors header: '{property.Name}' appears twice.");
                }

                if (property.Name == "__metadata__")
                {
                    foreach (JsonProperty m in property.Value.EnumerateObject())
                    {
                        metadata[m.Name] = m.Value.ValueKind == JsonValueKind.String ? m.Value.GetString()! : throw new ModelFormatException("Corrupt safetensors header: metadata values must be strings.");
                    }

                    continue;
                }

                entries.Add(ParseTensor(property, ref total));
            }

            entries.Sort((a, b) => a.Begin.CompareTo(b.Begin));
            long expected = 0;
            foreach ((string name, _, _, long begin, long end) in entries)
            {
                if (begin != expected)
                {
                    throw new ModelFormatException($"Corrupt safetensors header: tensor '{name}' starts at byte {begin}, expected {expected} (gap or overlap).");
                }

                expected = end;
            }

            LastMetadata = metadata;
            var layout = new TensorLayout(entries.Select(e => new TensorSpec(e.Name, e.Shape)));
            return (layout, entries.Select(e => e.DType).ToArray(), expected);
        }
    }

    private (string, ElementEncoding, int[], long, long) ParseTensor(JsonProperty property, ref long total)
    {
        string name = property.Name;
        try
        {
            JsonElement e = property.Value;
            JsonElement Field(string key) => e.ValueKind == JsonValueKind.Object && e.TryGetProperty(key, out JsonElement v)
                ? v
                : throw new ModelFormatException($"Corrupt safetensors header: tensor '{name}' has no '{key}'.");
            string dtypeName = Field("dtype").GetString() ?? string.Empty;
            ElementEncoding dtype = dtypeName switch
            {
                "F32" => ElementEncoding.Float32,
                "F16" => ElementEncoding.Float16,
                "BF16" => ElementEncoding.BFloat16,
                _ => throw new ModelFormatException($"Unsupported safetensors dtype '{dtypeName}' for tensor '{name}'; FederatedSharp reads F32, F16 and BF16."),
            };
            int[] shape = Field("shape").EnumerateArray().Select(d => d.GetInt32()).ToArray();
            long[] offsets = Field("data_offsets").EnumerateArray().Select(d => d.GetInt64()).ToArray();
            if (offsets.Length != 2 || offsets[0] < 0 || offsets[1] < offsets[0])
            {
                throw new ModelFormatException($"Corrupt safetensors header: tensor '{name}' has invalid data_offsets.");
            }

            long elements = 1;
            foreach (int d in shape)
            {
                if (d < 0)
                {
                    throw new ModelFormatException($"Corrupt safetensors header: tensor '{name}' has a negative dimension.");
                }

                elements = checked(elements * d);
            }

            total = checked(total + elements);
            if (total > _options.MaxParameterCount)
            {
                throw new ModelFormatException($"Oversized safetensors file: more than {_options.MaxParameterCount} parameters (limit).");
            }

            if (offsets[1] - offsets[0] != elements * ElementCodec.BytesPerValue(dtype))
            {
                throw new ModelFormatException($"Corrupt safetensors header: tensor '{name}' of shape [{string.Join(", ", shape)}] {dtypeName} needs {elements * ElementCodec.BytesPerValue(dtype)} bytes, its offsets span {offsets[1] - offsets[0]}.");
            }

            return (name, dtype, shape, offsets[0], offsets[1]);
        }
        catch (Exception ex) when (ex is KeyNotFoundException or InvalidOperationException or FormatException or OverflowException)
        {
            throw new ModelFormatException($"Corrupt safetensors header entry for tensor '{name}': {ex.Message}");
        }
    }

    private static async Task ReadExactlyAsync(Stream source, Memory<byte> buffer, string part, CancellationToken cancellationToken)
    {
        int read = await source.ReadAtLeastAsync(buffer, buffer.Length, throwOnEndOfStream: false, cancellationToken).ConfigureAwait(false);
        if (read < buffer.Length)
        {
            throw new ModelFormatException($"Truncated safetensors file: the {part} needs {buffer.Length} bytes, only {read} remain.");
        }
    }
}
