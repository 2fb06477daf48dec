using System.Globalization;
using System.Text.Json;
using FederatedSharp.Plans.Json;
using static TorchSharp.torch;

namespace FederatedSharp.Plans.Model;

/// <summary>
/// <c>sequential</c>: its layers one after another. <c>residual</c>: x + layers(x), which needs the layers to keep the
/// shape. The model of a plan is itself a sequential block.
/// </summary>
public sealed class BlockSpec : LayerSpec
{
    private readonly LayerSpec[] _layers;

    /// <summary>Creates the block.</summary>
    /// <param name="residual">Whether the block adds its input to its output.</param>
    /// <param name="layers">The layers (at least one).</param>
    /// <param name="name">The module's name; null for its index.</param>
    /// <exception cref="ArgumentException">There are no layers, or two share a name.</exception>
    public BlockSpec(bool residual, IEnumerable<LayerSpec> layers, string? name = null)
        : base(name)
    {
        ArgumentNullException.ThrowIfNull(layers);
        _layers = layers.ToArray();
        if (_layers.Length == 0)
        {
            throw new ArgumentException("A block needs at least one layer.", nameof(layers));
        }

        if (ModuleNames().GroupBy(n => n, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1)?.Key is { } duplicate)
        {
            throw new ArgumentException($"Two layers of a block are both named '{duplicate}'.", nameof(layers));
        }

        Residual = residual;
    }

    /// <summary>Whether the block adds its input to its output.</summary>
    public bool Residual { get; }

    /// <inheritdoc />
    public override string Type => Residual ? "residual" : "sequential";

    /// <inheritdoc />
    public override IReadOnlyList<LayerSpec> Children => _layers;

    /// <inheritdoc />
    public override string Summary => (Residual ? "Residual block" : "Sequential block") + $" of {_layers.Length} layers";

    /// <summary>The TorchSharp module names of the layers: their names, or their indices.</summary>
    /// <returns>The names in order.</returns>
    public IReadOnlyList<string> ModuleNames() => _layers.Select((l, i) => l.Name ?? i.ToString(CultureInfo.InvariantCulture)).ToArray();

    internal static BlockSpec? Read(PlanObject o, bool residual, Func<JsonElement, string, LayerSpec?> readLayer)
    {
        string? name = ReadName(o);
        if (o.Array("layers", required: true, nonEmpty: true) is not { } items)
        {
            return null;
        }

        var layers = items.Select(i => readLayer(i.Item, i.Path)).ToArray();
        if (layers.Any(l => l is null))
        {
            return null;
        }

        var names = layers.Select((l, i) => l!.Name ?? i.ToString(CultureInfo.InvariantCulture)).ToArray();
        if (names.GroupBy(n => n, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1)?.Key is { } duplicate)
        {
            o.Error("layers", $"two layers are both named '{duplicate}'");
            return null;
        }

        return new BlockSpec(residual, layers!, name);
    }

    internal override int[]? Infer(int[] input, string path, List<PlanError> errors)
    {
        int[]? shape = input;
        for (int i = 0; i < _layers.Length && shape is not null; i++)
        {
            shape = _layers[i].Infer(shape, path + ".layers[" + i.ToString(CultureInfo.InvariantCulture) + "]", errors);
        }

        if (shape is null)
        {
            return null;
        }

        return !Residual || Expect(shape.SequenceEqual(input), path, $"a residual block must keep its input's shape {Shape(input)}, but its layers output {Shape(shape)}", errors)
            ? shape
            : null;
    }

    internal override nn.Module<Tensor, Tensor> Build()
    {
        IReadOnlyList<string> names = ModuleNames();
        var modules = _layers.Select((l, i) => (names[i], l.Build())).ToArray();
        nn.Module<Tensor, Tensor> body = nn.Sequential(modules);
        return Residual ? new ResidualModule(body) : body;
    }

    internal override void WriteProperties(Utf8JsonWriter writer)
    {
        writer.WriteStartArray("layers");
        foreach (LayerSpec layer in _layers)
        {
            layer.Write(writer);
        }

        writer.WriteEndArray();
    }
}

/// <summary>x + body(x).</summary>
internal sealed class ResidualModule : nn.Module<Tensor, Tensor>
{
    private readonly nn.Module<Tensor, Tensor> body;

    public ResidualModule(nn.Module<Tensor, Tensor> body)
        : base("Residual")
    {
        this.body = body;
        RegisterComponents();
    }

    public override Tensor forward(Tensor input)
    {
        using Tensor inner = body.forward(input);
        return input.add(inner);
    }
}
