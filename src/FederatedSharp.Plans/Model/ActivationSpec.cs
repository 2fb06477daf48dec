using System.Globalization;
using System.Text.Json;
using FederatedSharp.Plans.Json;
using static TorchSharp.torch;

namespace FederatedSharp.Plans.Model;

/// <summary>
/// An element-wise activation (<c>relu</c>, <c>leaky_relu</c>, <c>elu</c>, <c>gelu</c>, <c>silu</c>, <c>tanh</c>,
/// <c>sigmoid</c>) or a normalisation over one dimension (<c>softmax</c>, <c>log_softmax</c>, <c>dim</c> counted
/// within a sample, negative from the end). None has parameters; none changes the shape.
/// </summary>
public sealed class ActivationSpec : LayerSpec
{
    /// <summary>The activations' type names.</summary>
    public static IReadOnlyList<string> Types { get; } = ["relu", "leaky_relu", "elu", "gelu", "silu", "tanh", "sigmoid", "softmax", "log_softmax"];

    /// <summary>Creates the layer.</summary>
    /// <param name="type">One of <see cref="Types"/>.</param>
    /// <param name="argument">leaky_relu's negative slope (default 0.01), elu's alpha (default 1), softmax's dimension (default -1); ignored otherwise.</param>
    /// <param name="name">The module's name; null for its index.</param>
    /// <exception cref="ArgumentException">The type is unknown.</exception>
    public ActivationSpec(string type, double? argument = null, string? name = null)
        : base(name)
    {
        if (!Types.Contains(type))
        {
            throw new ArgumentException($"Unknown activation '{type}'; known: {string.Join(", ", Types)}.", nameof(type));
        }

        Type = type;
        Argument = type switch
        {
            "leaky_relu" => argument ?? 0.01,
            "elu" => argument ?? 1.0,
            "softmax" or "log_softmax" => argument ?? -1,
            _ => null,
        };
    }

    /// <inheritdoc />
    public override string Type { get; }

    /// <summary>The negative slope, alpha or dimension; null for an activation that takes none.</summary>
    public double? Argument { get; }

    /// <inheritdoc />
    public override string Summary => Type switch
    {
        "leaky_relu" => $"Leaky ReLU, negative slope {Format(Argument!.Value)}",
        "elu" => $"ELU, alpha {Format(Argument!.Value)}",
        "softmax" => $"Softmax over dimension {Argument}",
        "log_softmax" => $"Log-softmax over dimension {Argument}",
        "relu" => "ReLU",
        "gelu" => "GELU",
        "silu" => "SiLU",
        "tanh" => "Tanh",
        _ => "Sigmoid",
    };

    private string? ArgumentName => Type switch
    {
        "leaky_relu" => "negativeSlope",
        "elu" => "alpha",
        "softmax" or "log_softmax" => "dim",
        _ => null,
    };

    internal static ActivationSpec Read(PlanObject o, string type)
    {
        string? name = ReadName(o);
        double? argument = type switch
        {
            "leaky_relu" => o.Number("negativeSlope", min: 0),
            "elu" => o.Number("alpha", min: 0, minExclusive: true),
            "softmax" or "log_softmax" => o.Integer("dim"),
            _ => null,
        };
        return new ActivationSpec(type, argument, name);
    }

    internal override int[]? Infer(int[] input, string path, List<PlanError> errors)
    {
        if (Type is "softmax" or "log_softmax")
        {
            int dim = (int)Argument!.Value;
            return Expect(dim >= -input.Length && dim < input.Length, path, $"{Type}'s dim {dim} is outside a sample of shape {Shape(input)}", errors) ? input : null;
        }

        return input;
    }

    internal override nn.Module<Tensor, Tensor> Build() => Type switch
    {
        "relu" => nn.ReLU(),
        "leaky_relu" => nn.LeakyReLU(Argument!.Value),
        "elu" => nn.ELU(Argument!.Value),
        "gelu" => nn.GELU(),
        "silu" => nn.SiLU(),
        "tanh" => nn.Tanh(),
        "sigmoid" => nn.Sigmoid(),
        "softmax" => nn.Softmax(BatchDim()),
        _ => nn.LogSoftmax(BatchDim()),
    };

    internal override void WriteProperties(Utf8JsonWriter writer)
    {
        if (ArgumentName is { } name)
        {
            writer.WriteNumber(name, Argument!.Value);
        }
    }

    // A sample's dimension d is the batch's d + 1; a negative one counts from the end in both.
    private long BatchDim() => Argument!.Value >= 0 ? (long)Argument.Value + 1 : (long)Argument.Value;

    private static string Format(double value) => value.ToString("G", CultureInfo.InvariantCulture);
}
