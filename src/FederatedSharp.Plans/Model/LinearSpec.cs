using System.Text.Json;
using FederatedSharp.Plans.Json;
using static TorchSharp.torch;

namespace FederatedSharp.Plans.Model;

/// <summary><c>linear</c>: y = x Wᵀ + b over the last dimension (<c>in</c> features to <c>out</c>).</summary>
public sealed class LinearSpec : LayerSpec
{
    /// <summary>Creates the layer.</summary>
    /// <param name="inFeatures">Input features (the last dimension).</param>
    /// <param name="outFeatures">Output features.</param>
    /// <param name="bias">Whether it has a bias.</param>
    /// <param name="name">The module's name; null for its index.</param>
    public LinearSpec(int inFeatures, int outFeatures, bool bias = true, string? name = null)
        : base(name)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(inFeatures);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(outFeatures);
        InFeatures = inFeatures;
        OutFeatures = outFeatures;
        Bias = bias;
    }

    /// <summary>Input features.</summary>
    public int InFeatures { get; }

    /// <summary>Output features.</summary>
    public int OutFeatures { get; }

    /// <summary>Whether it has a bias.</summary>
    public bool Bias { get; }

    /// <inheritdoc />
    public override string Type => "linear";

    /// <inheritdoc />
    public override string Summary => $"Linear {InFeatures} -> {OutFeatures}{(Bias ? " with bias" : " without bias")}";

    internal static LinearSpec? Read(PlanObject o)
    {
        string? name = ReadName(o);
        int? input = o.Integer("in", min: 1, required: true);
        int? output = o.Integer("out", min: 1, required: true);
        bool bias = o.Boolean("bias") ?? true;
        return input is int i && output is int j ? new LinearSpec(i, j, bias, name) : null;
    }

    internal override int[]? Infer(int[] input, string path, List<PlanError> errors) =>
        Expect(input.Length >= 1 && input[^1] == InFeatures, path, $"linear takes {InFeatures} input features but receives shape {Shape(input)}", errors)
            ? [.. input[..^1], OutFeatures]
            : null;

    internal override nn.Module<Tensor, Tensor> Build() => nn.Linear(InFeatures, OutFeatures, hasBias: Bias);

    internal override void WriteProperties(Utf8JsonWriter writer)
    {
        writer.WriteNumber("in", InFeatures);
        writer.WriteNumber("out", OutFeatures);
        writer.WriteBoolean("bias", Bias);
    }
}
