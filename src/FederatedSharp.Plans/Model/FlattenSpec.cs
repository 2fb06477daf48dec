using System.Text.Json;
using FederatedSharp.Plans.Json;
using static TorchSharp.torch;

namespace FederatedSharp.Plans.Model;

/// <summary><c>flatten</c>: a sample of any shape becomes one vector (the batch dimension stays).</summary>
public sealed class FlattenSpec : LayerSpec
{
    /// <summary>Creates the layer.</summary>
    /// <param name="name">The module's name; null for its index.</param>
    public FlattenSpec(string? name = null)
        : base(name)
    {
    }

    /// <inheritdoc />
    public override string Type => "flatten";

    /// <inheritdoc />
    public override string Summary => "Flatten";

    internal static FlattenSpec Read(PlanObject o) => new(ReadName(o));

    internal override int[]? Infer(int[] input, string path, List<PlanError> errors) => [input.Aggregate(1, (a, b) => a * b)];

    internal override nn.Module<Tensor, Tensor> Build() => nn.Flatten();

    internal override void WriteProperties(Utf8JsonWriter writer)
    {
    }
}
