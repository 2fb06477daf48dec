using System.Text.Json;
using FederatedSharp.Plans.Json;
using static TorchSharp.torch;

namespace FederatedSharp.Plans.Model;

/// <summary><c>maxpool1d</c>, <c>maxpool2d</c>, <c>avgpool1d</c> and <c>avgpool2d</c>: a square window, stride defaulting to the window.</summary>
public sealed class PoolingSpec : LayerSpec
{
    /// <summary>Creates the layer.</summary>
    /// <param name="maximum">Max pooling when true, average pooling when false.</param>
    /// <param name="dimensions">1 or 2 spatial dimensions.</param>
    /// <param name="kernel">Window size.</param>
    /// <param name="stride">Stride; null for the window size.</param>
    /// <param name="name">The module's name; null for its index.</param>
    public PoolingSpec(bool maximum, int dimensions, int kernel, int? stride = null, string? name = null)
        : base(name)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(dimensions, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(dimensions, 2);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(kernel);
        Maximum = maximum;
        Dimensions = dimensions;
        Kernel = kernel;
        Stride = stride ?? kernel;
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(Stride, nameof(stride));
    }

    /// <summary>Max pooling when true, average pooling when false.</summary>
    public bool Maximum { get; }

    /// <summary>Spatial dimensions: 1 or 2.</summary>
    public int Dimensions { get; }

    /// <summary>Window size.</summary>
    public int Kernel { get; }

    /// <summary>Stride.</summary>
    public int Stride { get; }

    /// <inheritdoc />
    public override string Type => (Maximum ? "maxpool" : "avgpool") + Dimensions + "d";

    /// <inheritdoc />
    public override string Summary => $"{(Maximum ? "Max" : "Average")} pooling {Dimensions}d, window {Kernel}, stride {Stride}";

    internal static PoolingSpec? Read(PlanObject o, bool maximum, int dimensions)
    {
        string? name = ReadName(o);
        int? kernel = o.Integer("kernel", min: 1, required: true);
        int? stride = o.Integer("stride", min: 1);
        return kernel is int k ? new PoolingSpec(maximum, dimensions, k, stride, name) : null;
    }

    internal override int[]? Infer(int[] input, string path, List<PlanError> errors)
    {
        if (!Expect(input.Length == Dimensions + 1, path, $"{Type} takes {(Dimensions == 1 ? "[channels, length]" : "[channels, height, width]")} but receives shape {Shape(input)}", errors)
            || !Expect(input[1..].All(s => s >= Kernel), path, $"{Type}'s window {Kernel} is larger than its input {Shape(input)}", errors))
        {
            return null;
        }

        return [input[0], .. input[1..].Select(size => ((size - Kernel) / Stride) + 1)];
    }

    internal override nn.Module<Tensor, Tensor> Build() => (Maximum, Dimensions) switch
    {
        (true, 1) => nn.MaxPool1d(Kernel, Stride),
        (true, _) => nn.MaxPool2d(Kernel, Stride),
        (false, 1) => nn.AvgPool1d(Kernel, Stride),
        _ => nn.AvgPool2d(Kernel, Stride),
    };

    internal override void WriteProperties(Utf8JsonWriter writer)
    {
        writer.WriteNumber("kernel", Kernel);
        writer.WriteNumber("stride", Stride);
    }
}
