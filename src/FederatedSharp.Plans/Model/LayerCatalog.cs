using System.Text.Json;
using FederatedSharp.Plans.Json;

namespace FederatedSharp.Plans.Model;

/// <summary>The plan vocabulary: every layer type a plan may name, and how each is read.</summary>
public static class LayerCatalog
{
    private static readonly Dictionary<string, Func<PlanObject, LayerSpec?>> Readers = CreateReaders();

    /// <summary>Every layer type, sorted.</summary>
    public static IReadOnlyList<string> Types { get; } = Readers.Keys.Order(StringComparer.Ordinal).ToArray();

    /// <summary>Reads one layer object, recording problems with their paths.</summary>
    internal static LayerSpec? Read(JsonElement element, string path, List<PlanError> errors)
    {
        if (PlanObject.From(element, path, errors) is not { } layer)
        {
            return null;
        }

        string? type = layer.String("type", required: true);
        if (type is null)
        {
            return null;
        }

        if (!Readers.TryGetValue(type, out Func<PlanObject, LayerSpec?>? read))
        {
            layer.Error("type", $"unknown layer '{type}'; the plan vocabulary has: {string.Join(", ", Types)}");
            return null;
        }

        LayerSpec? spec = read(layer);
        layer.RejectUnknown();
        return spec;
    }

    private static Dictionary<string, Func<PlanObject, LayerSpec?>> CreateReaders()
    {
        var readers = new Dictionary<string, Func<PlanObject, LayerSpec?>>(StringComparer.Ordinal)
        {
            ["linear"] = LinearSpec.Read,
            ["conv1d"] = o => ConvolutionSpec.Read(o, 1),
            ["conv2d"] = o => ConvolutionSpec.Read(o, 2),
            ["batchnorm1d"] = o => NormalizationSpec.Read(o, "batchnorm1d"),
            ["batchnorm2d"] = o => NormalizationSpec.Read(o, "batchnorm2d"),
            ["layernorm"] = o => NormalizationSpec.Read(o, "layernorm"),
            ["dropout"] = DropoutSpec.Read,
            ["maxpool1d"] = o => PoolingSpec.Read(o, true, 1),
            ["maxpool2d"] = o => PoolingSpec.Read(o, true, 2),
            ["avgpool1d"] = o => PoolingSpec.Read(o, false, 1),
            ["avgpool2d"] = o => PoolingSpec.Read(o, false, 2),
            ["flatten"] = FlattenSpec.Read,
            ["embedding"] = EmbeddingSpec.Read,
        };
        foreach (string activation in ActivationSpec.Types)
        {
            readers[activation] = o => ActivationSpec.Read(o, activation);
        }

        readers["sequential"] = o => BlockSpec.Read(o, residual: false, (e, p) => Read(e, p, o.Errors));
        readers["residual"] = o => BlockSpec.Read(o, residual: true, (e, p) => Read(e, p, o.Errors));
        return readers;
    }
}
