using System.Text.Json;
using FederatedSharp.Plans.Json;
using TorchSharp;
using static TorchSharp.torch;

namespace FederatedSharp.Plans.Model;

/// <summary>
/// <c>embedding</c>: each input value, an integer code in [0, count), becomes a learned vector of <c>dim</c> values;
/// a sample of shape [n] becomes [n, dim]. Codes arrive as the data set's numbers and are rounded to integers.
/// </summary>
public sealed class EmbeddingSpec : LayerSpec
{
    /// <summary>Creates the layer.</summary>
    /// <param name="count">The number of codes.</param>
    /// <param name="dimension">The vector size.</param>
    /// <param name="name">The module's name; null for its index.</param>
    public EmbeddingSpec(int count, int dimension, string? name = null)
        : base(name)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(count);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(dimension);
        Count = count;
        Dimension = dimension;
    }

    /// <summary>The number of codes.</summary>
    public int Count { get; }

    /// <summary>The vector size.</summary>
    public int Dimension { get; }

    /// <inheritdoc />
    public override string Type => "embedding";

    /// <inheritdoc />
    public override string Summary => $"Embedding of {Count} codes into {Dimension} dimensions";

    internal static EmbeddingSpec? Read(PlanObject o)
    {
        string? name = ReadName(o);
        int? count = o.Integer("count", min: 1, required: true);
        int? dimension = o.Integer("dim", min: 1, required: true);
        return count is int c && dimension is int d ? new EmbeddingSpec(c, d, name) : null;
    }

    internal override int[]? Infer(int[] input, string path, List<PlanError> errors) => [.. input, Dimension];

    internal override nn.Module<Tensor, Tensor> Build() => new CodeEmbedding(Count, Dimension);

    internal override void WriteProperties(Utf8JsonWriter writer)
    {
        writer.WriteNumber("count", Count);
        writer.WriteNumber("dim", Dimension);
    }
}

/// <summary>An embedding whose float input codes are rounded to int64 indices first.</summary>
internal sealed class CodeEmbedding : nn.Module<Tensor, Tensor>
{
    private readonly global::TorchSharp.Modules.Embedding table;

    public CodeEmbedding(int count, int dimension)
        : base("CodeEmbedding")
    {
        table = nn.Embedding(count, dimension);
        RegisterComponents();
    }

    public override Tensor forward(Tensor input)
    {
        using Tensor codes = input.round().to_type(ScalarType.Int64);
        return table.forward(codes);
    }
}
