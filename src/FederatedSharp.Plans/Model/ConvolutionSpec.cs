using System.Text.Json;
using FederatedSharp.Plans.Json;
using static TorchSharp.torch;

namespace FederatedSharp.Plans.Model;

/// <summary>
/// <c>conv1d</c> over [channels, length] and <c>conv2d</c> over [channels, height, width]: a square kernel with one
/// stride and one zero padding for every spatial dimension.
/// </summary>
public sealed class ConvolutionSpec : LayerSpec
{
    /// <summary>Creates the layer.</summary>
    /// <param name="dimensions">1 or 2 spatial dimensions.</param>
    /// <param name="inChannels">Input channels.</param>
    /// <param name="outChannels">Output channels.</param>
    /// <param name="kernel">Kernel size.</param>
    /// <param name="stride">Stride (default 1).</param>
    /// <param name="padding">Zero padding on each side (default 0).</param>
    /// <param name="bias">Whether it has a bias (default true).</param>
    /// <param name="name">The module's name; null for its index.</param>
    public ConvolutionSpec(int dimensions, int inChannels, int outChannels, int kernel, int stride = 1, int padding = 0, bool bias = true, string? name = null)
        : base(name)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(dimensions, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(dimensions, 2);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(inChannels);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(outChannels);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(kernel);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(stride);
        ArgumentOutOfRangeException.ThrowIfNegative(padding);
        Dimensions = dimensions;
        InChannels = inChannels;
        OutChannels = outChannels;
        Kernel = kernel;
        Stride = stride;
        Padding = padding;
        Bias = bias;
    }

    /// <summary>Spatial dimensions: 1 or 2.</summary>
    public int Dimensions { get; }

    /// <summary>Input channels.</summary>
    public int InChannels { get; }

    /// <summary>Output channels.</summary>
    public int OutChannels { get; }

    /// <summary>Kernel size.</summary>
    public int Kernel { get; }

    /// <summary>Stride.</summary>
    public int Stride { get; }

    /// <summary>Zero padding on each side.</summary>
    public int Padding { get; }

    /// <summary>Whether it has a bias.</summary>
    public bool Bias { get; }

    /// <inheritdoc />
    public override string Type => Dimensions == 1 ? "conv1d" : "conv2d";

    /// <inheritdoc />
    public override string Summary =>
        $"Conv{Dimensions}d {InChannels} -> {OutChannels} channels, kernel {Kernel}, stride {Stride}, padding {Padding}{(Bias ? "" : ", no bias")}";

    internal static ConvolutionSpec? Read(PlanObject o, int dimensions)
    {
        string? name = ReadName(o);
        int? input = o.Integer("in", min: 1, required: true);
        int? output = o.Integer("out", min: 1, required: true);
        int? kernel = o.Integer("kernel", min: 1, required: true);
        int stride = o.Integer("stride", min: 1) ?? 1;
        int padding = o.Integer("padding", min: 0) ?? 0;
        bool bias = o.Boolean("bias") ?? true;
        return input is int i && output is int j && kernel is int k ? new ConvolutionSpec(dimensions, i, j, k, stride, padding, bias, name) : null;
    }

    internal override int[]? Infer(int[] input, string path, List<PlanError> errors)
    {
        string expected = Dimensions == 1 ? "[channels, length]" : "[channels, height, width]";
        if (!Expect(input.Length == Dimensions + 1 && input[0] == InChannels, path, $"{Type} takes {expected} with {InChannels} channels but receives shape {Shape(input)}", errors))
        {
            return null;
        }

        int[] output = [OutChannels, .. input[1..].Select(size => ((size + (2 * Padding) - Kernel) / Stride) + 1)];
        return Expect(output.Skip(1).All(s => s >= 1) && input[1..].All(s => s + (2 * Padding) >= Kernel), path, $"{Type}'s kernel {Kernel} is larger than its padded input {Shape(input)}", errors) ? output : null;
    }

    internal override nn.Module<Tensor, Tensor> Build() => Dimensions == 1
        ? nn.Conv1d(InChannels, OutChannels, Kernel, stride: Stride, padding: Padding, bias: Bias)
        : nn.Conv2d(InChannels, OutChannels, Kernel, stride: Stride, padding: Padding, bias: Bias);

    internal override void WriteProperties(Utf8JsonWriter writer)
    {
        writer.WriteNumber("in", InChannels);
        writer.WriteNumber("out", OutChannels);
        writer.WriteNumber("kernel", Kernel);
        writer.WriteNumber("stride", Stride);
        writer.WriteNumber("padding", Padding);
        writer.WriteBoolean("bias", Bias);
    }
}
