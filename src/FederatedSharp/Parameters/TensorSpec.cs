namespace FederatedSharp.Parameters;

/// <summary>One named tensor of a model: its name and shape. Values are <see cref="float"/>.</summary>
public sealed class TensorSpec : IEquatable<TensorSpec>
{
    private readonly int[] _shape;

    /// <summary>Creates a tensor description.</summary>
    /// <param name="name">The tensor's name, unique within a layout (for example <c>fc1.weight</c>).</param>
    /// <param name="shape">The dimensions; an empty shape is a scalar.</param>
    /// <exception cref="ArgumentException"><paramref name="name"/> is empty or a dimension is negative.</exception>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    /// <exception cref="OverflowException">The element count exceeds <see cref="int.MaxValue"/>.</exception>
    public TensorSpec(string name, params int[] shape)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(shape);
        long count = 1;
        foreach (int dimension in shape)
        {
            if (dimension < 0)
            {
                throw new ArgumentException($"Tensor '{name}' has a negative dimension {dimension} in shape [{string.Join(", ", shape)}].", nameof(shape));
            }

            count = checked(count * dimension);
        }

        Name = name;
        _shape = (int[])shape.Clone();
        ElementCount = checked((int)count);
    }

    /// <summary>The tensor's name.</summary>
    public string Name { get; }

    /// <summary>The dimensions.</summary>
    public IReadOnlyList<int> Shape => _shape;

    /// <summary>The number of elements (product of the dimensions).</summary>
    public int ElementCount { get; }

    /// <summary>The shape as text, for messages: <c>[13, 1]</c>.</summary>
    public string ShapeText => "[" + string.Join(", ", _shape) + "]";

    /// <inheritdoc />
    public bool Equals(TensorSpec? other) =>
        other is not null && Name == other.Name && _shape.AsSpan().SequenceEqual(other._shape);

    /// <inheritdoc />
    public override bool Equals(object? obj) => Equals(obj as TensorSpec);

    /// <inheritdoc />
    public override int GetHashCode()
    {
        var hash = new HashCode();
        hash.Add(Name, StringComparer.Ordinal);
        foreach (int d in _shape)
        {
            hash.Add(d);
        }

        return hash.ToHashCode();
    }

    /// <inheritdoc />
    public override string ToString() => Name + ShapeText;
}
