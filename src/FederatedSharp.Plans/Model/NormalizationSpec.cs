using System.Text.Json;
using FederatedSharp.Plans.Json;
using static TorchSharp.torch;

namespace FederatedSharp.Plans.Model;

/// <summary>
/// <c>batchnorm1d</c> over [features] or [channels, length], <c>batchnorm2d</c> over [channels, height, width], and
/// <c>layernorm</c> over the trailing dimensions given by <c>shape</c>. Batch normalisation's running statistics
/// stay at each site (they are buffers, not federated parameters), as in FedBN.
/// </summary>
public sealed class NormalizationSpec : LayerSpec
{
    private NormalizationSpec(string type, int[] shape, double epsilon, string? name)
        : base(name)
    {
        Type = type;
        NormalizedShape = shape;
        Epsilon = epsilon;
    }

    /// <inheritdoc />
    public override string Type { get; }

    /// <summary>For batch normalisation the one channel count; for layer normalisation the normalised trailing shape.</summary>
    public IReadOnlyList<int> NormalizedShape { get; }

    /// <summary>The epsilon added to the variance (default 1e-5).</summary>
    public double Epsilon { get; }

    /// <inheritdoc />
    public override string Summary => Type == "layernorm"
        ? $"Layer normalisation over {Shape([.. NormalizedShape])}"
        : $"Batch normalisation ({Type[^2..]}) over {NormalizedShape[0]} channels, running statistics kept at the site";

    /// <summary>A batch normalisation layer.</summary>
    /// <param name="dimensions">1 (batchnorm1d) or 2 (batchnorm2d).</param>
    /// <param name="features">Features or channels.</param>
    /// <param name="epsilon">Added to the variance.</param>
    /// <param name="name">The module's name; null for its index.</param>
    /// <returns>The layer.</returns>
    public static NormalizationSpec BatchNorm(int dimensions, int features, double epsilon = 1e-5, string? name = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(dimensions, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(dimensions, 2);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(features);
        return new NormalizationSpec("batchnorm" + dimensions + "d", [features], epsilon, name);
    }

    /// <summary>A layer normalisation layer.</summary>
    /// <param name="shape">The normalised trailing shape.</param>
    /// <param name="epsilon">Added to the variance.</param>
    /// <param name="name">The module's name; null for its index.</param>
    /// <returns>The layer.</returns>
    public static NormalizationSpec LayerNorm(IReadOnlyList<int> shape, double epsilon = 1e-5, string? name = null)
    {
        ArgumentNullException.ThrowIfNull(shape);
        ArgumentOutOfRangeException.ThrowIfZero(shape.Count, nameof(shape));
        return new NormalizationSpec("layernorm", [.. shape], epsilon, name);
    }

    internal static NormalizationSpec? Read(PlanObject o, string type)
    {
        string? name = ReadName(o);
        double epsilon = o.Number("epsilon", min: 0, minExclusive: true) ?? 1e-5;
        if (type == "layernorm")
        {
            return o.Integers("shape", min: 1, required: true, nonEmpty: true) is { } shape ? LayerNorm(shape, epsilon, name) : null;
        }

        return o.Integer("features", min: 1, required: true) is int features ? BatchNorm(type == "batchnorm1d" ? 1 : 2, features, epsilon, name) : null;
    }

    internal override int[]? Infer(int[] input, string path, List<PlanError> errors)
    {
        bool fits = Type switch
        {
            "layernorm" => input.Length >= NormalizedShape.Count && input[^NormalizedShape.Count..].SequenceEqual(NormalizedShape),
            "batchnorm1d" => input.Length is 1 or 2 && input[0] == NormalizedShape[0],
            _ => input.Length == 3 && input[0] == NormalizedShape[0],
        };
        string wants = Type switch
        {
            "layernorm" => $"trailing dimensions {Shape([.. NormalizedShape])}",
            "batchnorm1d" => $"[{NormalizedShape[0]}] or [{NormalizedShape[0]}, length]",
            _ => $"[{NormalizedShape[0]}, height, width]",
        };
        return Expect(fits, path, $"{Type} takes {wants} but receives shape {Shape(input)}", errors) ? input : null;
    }

    internal override nn.Module<Tensor, Tensor> Build() => Type switch
    {
        "layernorm" => nn.LayerNorm(NormalizedShape.Select(s => (long)s).ToArray(), eps: Epsilon),
        "batchnorm1d" => nn.BatchNorm1d(NormalizedShape[0], eps: Epsilon),
        _ => nn.BatchNorm2d(NormalizedShape[0], eps: Epsilon),
    };

    internal override void WriteProperties(Utf8JsonWriter writer)
    {
        if (Type == "layernorm")
        {
            writer.WriteStartArray("shape");
            foreach (int size in NormalizedShape)
            {
                writer.WriteNumberValue(size);
            }

            writer.WriteEndArray();
        }
        else
        {
            writer.WriteNumber("features", NormalizedShape[0]);
        }

        writer.WriteNumber("epsilon", Epsilon);
    }
}
