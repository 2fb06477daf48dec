using System.Buffers;
using System.Buffers.Binary;
using System.Text;
using FederatedSharp.Clients;
using FederatedSharp.Parameters;
using FederatedSharp.Serialization;

namespace FederatedSharp.Aggregation;

/// <summary>
/// A strategy's checkpointable state: scalars (for example the step count) and named tensor sets with the model's
/// layout (momentum, moments, control variates). <see cref="ToBytes"/>/<see cref="FromBytes"/> give a self-checking
/// binary form built on <see cref="BinaryModelSerializer"/>.
/// </summary>
public sealed class AggregatorState
{
    private readonly Dictionary<string, float[]> _tensors = new(StringComparer.Ordinal);

    /// <summary>Creates an empty state for <paramref name="strategy"/>.</summary>
    /// <param name="strategy">The strategy's name.</param>
    /// <param name="layout">The model layout the tensors follow; null when there are none yet.</param>
    public AggregatorState(string strategy, TensorLayout? layout)
    {
        ArgumentException.ThrowIfNullOrEmpty(strategy);
        Strategy = strategy;
        Layout = layout;
    }

    /// <summary>The strategy's name.</summary>
    public string Strategy { get; }

    /// <summary>The layout of every tensor set; null when the state has no tensors.</summary>
    public TensorLayout? Layout { get; }

    /// <summary>Scalars (counters, running values).</summary>
    public ConfigRecord Scalars { get; } = new();

    /// <summary>The names of the tensor sets.</summary>
    public IEnumerable<string> TensorNames => _tensors.Keys.OrderBy(k => k, StringComparer.Ordinal);

    /// <summary>Stores a copy of a tensor set (length must equal the layout's).</summary>
    /// <param name="name">The set's name (for example <c>momentum</c>).</param>
    /// <param name="values">The values.</param>
    /// <exception cref="InvalidOperationException">The state has no layout, or the length differs from it.</exception>
    public void SetTensor(string name, ReadOnlySpan<float> values)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        if (Layout is null || values.Length != Layout.TotalLength)
        {
            throw new InvalidOperationException($"Tensor set '{name}' has {values.Length} values; the state's layout has {Layout?.TotalLength ?? 0}.");
        }

        _tensors[name] = values.ToArray();
    }

    /// <summary>Gets a tensor set.</summary>
    /// <param name="name">The set's name.</param>
    /// <param name="values">The values, or null when absent.</param>
    /// <returns>Whether the set exists.</returns>
    public bool TryGetTensor(string name, out float[]? values) => _tensors.TryGetValue(name, out values);

    /// <summary>A state holding at most one tensor set (momentum, a control variate...).</summary>
    /// <param name="strategy">The strategy's name.</param>
    /// <param name="layout">The model layout, or null before the first round.</param>
    /// <param name="name">The set's name.</param>
    /// <param name="values">The values, or null when the strategy has none yet.</param>
    /// <returns>The state.</returns>
    public static AggregatorState WithTensor(string strategy, TensorLayout? layout, string name, float[]? values)
    {
        var state = new AggregatorState(strategy, layout);
        if (values is not null)
        {
            state.SetTensor(name, values);
        }

        return state;
    }

    /// <summary>A copy of a tensor set, or null when absent.</summary>
    /// <param name="name">The set's name.</param>
    /// <returns>The values.</returns>
    public float[]? CopyTensor(string name) => _tensors.TryGetValue(name, out float[]? values) ? (float[])values.Clone() : null;

    /// <summary>Throws unless this state was exported by <paramref name="strategy"/> for <paramref name="layout"/>.</summary>
    /// <param name="strategy">The expected strategy name.</param>
    /// <param name="layout">The expected layout (ignored when the state has none).</param>
    /// <exception cref="ArgumentException">The state belongs to another strategy or layout.</exception>
    public void EnsureFor(string strategy, TensorLayout? layout)
    {
        if (Strategy != strategy)
        {
            throw new ArgumentException($"The state was exported by {Strategy}, not {strategy}.");
        }

        if (Layout is not null && layout is not null && Layout.Hash != layout.Hash)
        {
            throw new ArgumentException($"The state's layout ({Layout}) differs from the model's ({layout}).");
        }
    }

    /// <summary>Serializes the state.</summary>
    /// <returns>The bytes.</returns>
    public byte[] ToBytes()
    {
        var writer = new ArrayBufferWriter<byte>();
        var serializer = new BinaryModelSerializer();
        WriteString(writer, Strategy);
        WriteInt(writer, Scalars.Count);
        foreach ((string key, ConfigValue value) in Scalars.OrderBy(p => p.Key, StringComparer.Ordinal))
        {
            WriteString(writer, key);
            WriteString(writer, value.Kind.ToString());
            WriteString(writer, value.Kind == ConfigValueKind.Bytes ? Convert.ToBase64String(value.AsBytes().Span) : value.ToString());
        }

        WriteInt(writer, _tensors.Count);
        foreach (string name in TensorNames)
        {
            WriteString(writer, name);
            using ModelParameters p = ModelParameters.FromValues(Layout!, _tensors[name]);
            byte[] payload = serializer.SerializeToArray(p);
            WriteInt(writer, payload.Length);
            writer.Write(payload);
        }

        return writer.WrittenSpan.ToArray();
    }

    /// <summary>Reads a state written by <see cref="ToBytes"/>.</summary>
    /// <param name="bytes">The bytes.</param>
    /// <returns>The state.</returns>
    /// <exception cref="ModelFormatException">The bytes are truncated or corrupt.</exception>
    public static AggregatorState FromBytes(ReadOnlySpan<byte> bytes)
    {
        var serializer = new BinaryModelSerializer();
        int position = 0;
        string strategy = ReadString(bytes, ref position);
        var scalars = new List<(string, ConfigValue)>();
        int scalarCount = ReadInt(bytes, ref position);
        for (int i = 0; i < scalarCount; i++)
        {
            string key = ReadString(bytes, ref position);
            string kind = ReadString(bytes, ref position);
            string text = ReadString(bytes, ref position);
            scalars.Add((key, Enum.Parse<ConfigValueKind>(kind) switch
            {
                ConfigValueKind.Boolean => text == "true",
                ConfigValueKind.Int64 => long.Parse(text, System.Globalization.CultureInfo.InvariantCulture),
                ConfigValueKind.Double => double.Parse(text, System.Globalization.CultureInfo.InvariantCulture),
                ConfigValueKind.String => text,
                _ => Convert.FromBase64String(text),
            }));
        }

        int tensorCount = ReadInt(bytes, ref position);
        var tensors = new List<(string, ModelParameters)>();
        try
        {
            for (int i = 0; i < tensorCount; i++)
            {
                string name = ReadString(bytes, ref position);
                int length = ReadInt(bytes, ref position);
                if (length < 0 || position + length > bytes.Length)
                {
                    throw new ModelFormatException("Truncated aggregator state.");
                }

                tensors.Add((name, serializer.Deserialize(bytes.Slice(position, length).ToArray())));
                position += length;
            }

            var state = new AggregatorState(strategy, tensors.Count > 0 ? tensors[0].Item2.Layout : null);
            foreach ((string key, ConfigValue value) in scalars)
            {
                state.Scalars[key] = value;
            }

            foreach ((string name, ModelParameters p) in tensors)
            {
                state.SetTensor(name, p.Values);
            }

            return state;
        }
        finally
        {
            foreach ((_, ModelParameters p) in tensors)
            {
                p.Dispose();
            }
        }
    }

    private static void WriteInt(IBufferWriter<byte> writer, int value)
    {
        BinaryPrimitives.WriteInt32LittleEndian(writer.GetSpan(4), value);
        writer.Advance(4);
    }

    private static void WriteString(IBufferWriter<byte> writer, string value)
    {
        byte[] utf8 = Encoding.UTF8.GetBytes(value);
        WriteInt(writer, utf8.Length);
        writer.Write(utf8);
    }

    private static int ReadInt(ReadOnlySpan<byte> bytes, ref int position)
    {
        if (position + 4 > bytes.Length)
        {
            throw new ModelFormatException("Truncated aggregator state.");
        }

        int value = BinaryPrimitives.ReadInt32LittleEndian(bytes[position..]);
        position += 4;
        return value;
    }

    private static string ReadString(ReadOnlySpan<byte> bytes, ref int position)
    {
        int length = ReadInt(bytes, ref position);
        if (length < 0 || position + length > bytes.Length)
        {
            throw new ModelFormatException("Truncated aggregator state.");
        }

        string value = Encoding.UTF8.GetString(bytes.Slice(position, length));
        position += length;
        return value;
    }
}
