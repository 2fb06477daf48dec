using System.Numerics.Tensors;

namespace FederatedSharp.Parameters;

/// <summary>Parameters that carry some of a model's tensors (partial training): matched to the model's by name.</summary>
internal static class SubLayout
{
    /// <summary>Null when every tensor of <paramref name="part"/> is in <paramref name="whole"/> with the same shape; else what is wrong, naming the tensor.</summary>
    public static string? Problem(TensorLayout part, TensorLayout whole, string what)
    {
        foreach (TensorSpec tensor in part.Tensors)
        {
            if (!whole.TryGetIndex(tensor.Name, out int index))
            {
                return $"The {what}'s tensor '{tensor.Name}' is not in the model.";
            }

            TensorSpec known = whole.Tensors[index];
            if (!known.Shape.SequenceEqual(tensor.Shape))
            {
                return $"The {what}'s tensor '{tensor.Name}' has shape {tensor.ShapeText}; the model's is {known.ShapeText}.";
            }
        }

        return null;
    }

    /// <summary>Adds <paramref name="scale"/> times the matching tensors of <paramref name="whole"/> (in <paramref name="wholeLayout"/>) to each tensor of <paramref name="part"/> (in <paramref name="partLayout"/>).</summary>
    /// <remarks>Call <see cref="Problem"/> first: every tensor of the part must be in the whole layout.</remarks>
    public static void AddByName(TensorLayout partLayout, Span<float> part, TensorLayout wholeLayout, ReadOnlySpan<float> whole, float scale)
    {
        for (int t = 0; t < partLayout.Count; t++)
        {
            TensorSpec tensor = partLayout.Tensors[t];
            Span<float> target = part.Slice(partLayout.GetOffset(t), tensor.ElementCount);
            ReadOnlySpan<float> source = whole.Slice(wholeLayout.GetOffset(wholeLayout.IndexOf(tensor.Name)), tensor.ElementCount);
            if (scale == 1)
            {
                TensorPrimitives.Add(target, source, target);
            }
            else
            {
                TensorPrimitives.MultiplyAdd(source, scale, target, target);
            }
        }
    }
}
