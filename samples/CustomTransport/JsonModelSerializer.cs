using System.Buffers;
using System.Text.Json;
using FederatedSharp.Parameters;
using FederatedSharp.Serialization;

namespace CustomTransport;

// snippet: custom-serializer
/// <summary>
/// A custom <see cref="IModelSerializer"/>: human-readable JSON (<c>{"tensors":[{"name","shape","values"}]}</c>), handy
/// when a site wants to inspect what leaves it. Like every serializer it trusts nothing it reads: sizes are checked
/// against a limit before allocating, and malformed input raises <see cref="ModelFormatException"/>.
/// </summary>
public sealed class JsonModelSerializer(long maxParameters = 10_000_000) : IModelSerializer
{
    public string Format => "json";

    public void Serialize(ModelParameters parameters, IBufferWriter<byte> destination)
    {
        using var w = new Utf8JsonWriter(destination);
        w.WriteStartObject();
        w.WriteStartArray("tensors");
        for (int t = 0; t < parameters.Layout.Count; t++)
        {
            TensorSpec spec = parameters.Layout.Tensors[t];
            w.WriteStartObject();
            w.WriteString("name", spec.Name);
            w.WriteStartArray("shape");
            foreach (int d in spec.Shape)
            {
                w.WriteNumberValue(d);
            }

            w.WriteEndArray();
            w.WriteStartArray("values");
            foreach (float v in parameters.GetTensor(t))
            {
                w.WriteNumberValue(v);
            }

            w.WriteEndArray();
            w.WriteEndObject();
        }

        w.WriteEndArray();
        w.WriteEndObject();
    }

    public ModelParameters Deserialize(ReadOnlySequence<byte> payload)
    {
        try
        {
            using JsonDocument document = JsonDocument.Parse(payload);
            var specs = new List<TensorSpec>();
            var values = new List<float[]>();
            long total = 0;
            foreach (JsonElement tensor in document.RootElement.GetProperty("tensors").EnumerateArray())
            {
                int[] shape = tensor.GetProperty("shape").EnumerateArray().Select(d => d.GetInt32()).ToArray();
                var spec = new TensorSpec(tensor.GetProperty("name").GetString()!, shape);
                total += spec.ElementCount;
                if (total > maxParameters)
                {
                    throw new ModelFormatException($"Oversized JSON model: more than {maxParameters} parameters.");
                }

                float[] v = tensor.GetProperty("values").EnumerateArray().Select(e => e.GetSingle()).ToArray();
                if (v.Length != spec.ElementCount)
                {
                    throw new ModelFormatException($"Tensor '{spec.Name}' of shape {spec.ShapeText} has {v.Length} values.");
                }

                specs.Add(spec);
                values.Add(v);
            }

            return ModelParameters.FromValues(new TensorLayout(specs), values.SelectMany(v => v).ToArray());
        }
        catch (Exception ex) when (ex is JsonException or KeyNotFoundException or InvalidOperationException or FormatException or ArgumentException)
        {
            throw new ModelFormatException($"Malformed JSON model: {ex.Message}");
        }
    }

    public async Task SerializeAsync(ModelParameters parameters, Stream destination, CancellationToken cancellationToken = default)
    {
        var buffer = new ArrayBufferWriter<byte>();
        Serialize(parameters, buffer);
        await destination.WriteAsync(buffer.WrittenMemory, cancellationToken).ConfigureAwait(false);
    }

    public async Task<ModelParameters> DeserializeAsync(Stream source, CancellationToken cancellationToken = default)
    {
        using var memory = new MemoryStream();
        await source.CopyToAsync(memory, cancellationToken).ConfigureAwait(false);
        return Deserialize(new ReadOnlySequence<byte>(memory.ToArray()));
    }
}
// end snippet
