using System.Buffers.Binary;
using System.IO.Hashing;
using System.Text;

namespace FederatedSharp.Parameters;

/// <summary>
/// The ordered list of named tensors of a model and where each lives in the one contiguous buffer of a
/// <see cref="ModelParameters"/>. Two layouts are compatible when names, order and shapes are equal; <see cref="Hash"/>
/// is a stable 64-bit fingerprint of exactly that, identical across processes and machines.
/// </summary>
public sealed class TensorLayout : IEquatable<TensorLayout>
{
    private readonly TensorSpec[] _tensors;
    private readonly int[] _offsets;
    private readonly Dictionary<string, int> _indexByName;

    /// <summary>Creates a layout from tensors in buffer order.</summary>
    /// <param name="tensors">The tensors; names must be unique.</param>
    /// <exception cref="ArgumentNullException"><paramref name="tensors"/> is null or holds null.</exception>
    /// <exception cref="ArgumentException">Two tensors share a name, or the total exceeds the largest array.</exception>
    public TensorLayout(IEnumerable<TensorSpec> tensors)
    {
        ArgumentNullException.ThrowIfNull(tensors);
        _tensors = tensors.ToArray();
        _offsets = new int[_tensors.Length];
        _indexByName = new Dictionary<string, int>(_tensors.Length, StringComparer.Ordinal);
        long offset = 0;
        for (int i = 0; i < _tensors.Length; i++)
        {
            TensorSpec spec = _tensors[i] ?? throw new ArgumentNullException(nameof(tensors), $"Tensor {i} is null.");
            if (!_indexByName.TryAdd(spec.Name, i))
            {
                throw new ArgumentException($"Duplicate tensor name '{spec.Name}' at positions {_indexByName[spec.Name]} and {i}.", nameof(tensors));
            }

            _offsets[i] = (int)offset;
            offset += spec.ElementCount;
            if (offset > Array.MaxLength)
            {
                throw new ArgumentException($"The layout holds more than {Array.MaxLength} parameters, the largest buffer .NET can allocate.", nameof(tensors));
            }
        }

        TotalLength = (int)offset;
        Hash = ComputeHash(_tensors);
    }

    /// <summary>Creates a layout from tensors in buffer order.</summary>
    /// <param name="tensors">The tensors; names must be unique.</param>
    /// <returns>The layout.</returns>
    /// <exception cref="ArgumentException">Two tensors share a name.</exception>
    public static TensorLayout Create(params TensorSpec[] tensors) => new(tensors);

    /// <summary>The tensors in buffer order.</summary>
    public IReadOnlyList<TensorSpec> Tensors => _tensors;

    /// <summary>The number of tensors.</summary>
    public int Count => _tensors.Length;

    /// <summary>The total number of parameters (length of the buffer).</summary>
    public int TotalLength { get; }

    /// <summary>A stable 64-bit fingerprint of the names, order and shapes (XxHash64 of a canonical encoding).</summary>
    public ulong Hash { get; }

    /// <summary>The offset of tensor <paramref name="index"/> in the buffer.</summary>
    /// <param name="index">The tensor's position.</param>
    /// <returns>The offset in elements.</returns>
    public int GetOffset(int index) => _offsets[index];

    /// <summary>The position of the tensor called <paramref name="name"/>.</summary>
    /// <param name="name">The tensor's name.</param>
    /// <returns>Its index.</returns>
    /// <exception cref="KeyNotFoundException">No tensor has that name.</exception>
    public int IndexOf(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        return _indexByName.TryGetValue(name, out int index)
            ? index
            : throw new KeyNotFoundException($"The layout has no tensor named '{name}'. Tensors: {string.Join(", ", _tensors.Select(t => t.Name))}.");
    }

    /// <summary>The position of the tensor called <paramref name="name"/>, if there is one.</summary>
    internal bool TryGetIndex(string name, out int index) => _indexByName.TryGetValue(name, out index);

    /// <summary>Throws a <see cref="LayoutMismatchException"/> naming the first difference when <paramref name="other"/> is not compatible.</summary>
    /// <param name="other">The layout to compare with (for example a client update's).</param>
    /// <param name="what">What <paramref name="other"/> belongs to, for the message (for example "update from client-3").</param>
    /// <exception cref="LayoutMismatchException">The layouts differ.</exception>
    public void EnsureCompatible(TensorLayout other, string what = "parameters")
    {
        ArgumentNullException.ThrowIfNull(other);
        if (ReferenceEquals(this, other) || (Hash == other.Hash && Equals(other)))
        {
            return;
        }

        if (Count != other.Count)
        {
            throw new LayoutMismatchException($"Layout mismatch in {what}: expected {Count} tensors, got {other.Count}.");
        }

        for (int i = 0; i < Count; i++)
        {
            TensorSpec expected = _tensors[i];
            TensorSpec actual = other._tensors[i];
            if (expected.Name != actual.Name)
            {
                throw new LayoutMismatchException($"Layout mismatch in {what}: tensor {i} is '{actual.Name}', expected '{expected.Name}'.");
            }

            if (!expected.Equals(actual))
            {
                throw new LayoutMismatchException($"Layout mismatch in {what}: tensor '{expected.Name}' has shape {actual.ShapeText}, expected {expected.ShapeText}.");
            }
        }
    }

    /// <inheritdoc />
    public bool Equals(TensorLayout? other) =>
        other is not null && (ReferenceEquals(this, other) || (Hash == other.Hash && _tensors.AsSpan().SequenceEqual(other._tensors)));

    /// <inheritdoc />
    public override bool Equals(object? obj) => Equals(obj as TensorLayout);

    /// <inheritdoc />
    public override int GetHashCode() => (int)Hash ^ (int)(Hash >> 32);

    /// <inheritdoc />
    public override string ToString() => $"{Count} tensors, {TotalLength} parameters, hash {Hash:x16}";

    private static ulong ComputeHash(TensorSpec[] tensors)
    {
        var hasher = new XxHash64();
        Span<byte> scratch = stackalloc byte[4];
        BinaryPrimitives.WriteInt32LittleEndian(scratch, tensors.Length);
        hasher.Append(scratch);
        foreach (TensorSpec t in tensors)
        {
            byte[] name = Encoding.UTF8.GetBytes(t.Name);
            BinaryPrimitives.WriteInt32LittleEndian(scratch, name.Length);
            hasher.Append(scratch);
            hasher.Append(name);
            BinaryPrimitives.WriteInt32LittleEndian(scratch, t.Shape.Count);
            hasher.Append(scratch);
            foreach (int d in t.Shape)
            {
                BinaryPrimitives.WriteInt32LittleEndian(scratch, d);
                hasher.Append(scratch);
            }
        }

        return hasher.GetCurrentHashAsUInt64();
    }
}
