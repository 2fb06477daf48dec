using System.Text.Json;
using System.Text.RegularExpressions;
using FederatedSharp.Plans.Json;
using static TorchSharp.torch;

namespace FederatedSharp.Plans.Model;

/// <summary>
/// One layer of a plan's model, from the plan's vocabulary of TorchSharp building blocks. A layer checks the shape it
/// receives (every shape excludes the batch dimension), builds its TorchSharp module and writes itself back to JSON
/// with every default spelt out, which is the form a plan's hash is taken of.
/// </summary>
public abstract partial class LayerSpec
{
    /// <summary>Creates the layer.</summary>
    /// <param name="name">The module's name inside its block (null: its index, as in PyTorch's Sequential).</param>
    private protected LayerSpec(string? name) => Name = name;

    /// <summary>The layer's type as written in plans, for example <c>linear</c> or <c>conv2d</c>.</summary>
    public abstract string Type { get; }

    /// <summary>The module's name inside its block; null for its index.</summary>
    public string? Name { get; }

    /// <summary>A one-line description for people who approve plans, for example <c>Linear 13 -> 1 with bias</c>.</summary>
    public abstract string Summary { get; }

    /// <summary>The layers inside this one (sequential and residual blocks); empty for a plain layer.</summary>
    public virtual IReadOnlyList<LayerSpec> Children => Array.Empty<LayerSpec>();

    /// <summary>The shape this layer outputs for <paramref name="input"/>, or null after recording why it cannot take it.</summary>
    internal abstract int[]? Infer(int[] input, string path, List<PlanError> errors);

    /// <summary>Builds the TorchSharp module (parameters initialised from torch's global generator).</summary>
    internal abstract nn.Module<Tensor, Tensor> Build();

    /// <summary>Writes the layer's own properties (after <c>type</c> and <c>name</c>).</summary>
    internal abstract void WriteProperties(Utf8JsonWriter writer);

    internal void Write(Utf8JsonWriter writer)
    {
        writer.WriteStartObject();
        writer.WriteString("type", Type);
        if (Name is not null)
        {
            writer.WriteString("name", Name);
        }

        WriteProperties(writer);
        writer.WriteEndObject();
    }

    internal static string? ReadName(PlanObject layer)
    {
        string? name = layer.String("name");
        if (name is not null && !NamePattern().IsMatch(name))
        {
            layer.Error("name", $"'{name}' is not a module name: use letters, digits and underscores, not starting with a digit");
            return null;
        }

        return name;
    }

    internal static string Shape(int[] shape) => "[" + string.Join(", ", shape) + "]";

    internal static bool Expect(bool condition, string path, string message, List<PlanError> errors)
    {
        if (!condition)
        {
            errors.Add(new PlanError(path, message));
        }

        return condition;
    }

    [GeneratedRegex("^[A-Za-z_][A-Za-z0-9_]*$")]
    private static partial Regex NamePattern();
}
