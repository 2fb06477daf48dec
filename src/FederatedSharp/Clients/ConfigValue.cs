using System.Globalization;

namespace FederatedSharp.Clients;

/// <summary>A typed scalar of a <see cref="ConfigRecord"/>: bool, long, double, string or bytes (Flower's <c>Scalar</c>).</summary>
public readonly struct ConfigValue : IEquatable<ConfigValue>
{
    private readonly long _integer;
    private readonly double _number;
    private readonly object? _reference;

    private ConfigValue(ConfigValueKind kind, long integer, double number, object? reference)
    {
        Kind = kind;
        _integer = integer;
        _number = number;
        _reference = reference;
    }

    /// <summary>The type held.</summary>
    public ConfigValueKind Kind { get; }

    /// <summary>Whether the value is a number (<see cref="ConfigValueKind.Int64"/>, <see cref="ConfigValueKind.Double"/> or <see cref="ConfigValueKind.Boolean"/>).</summary>
    public bool IsNumeric => Kind is ConfigValueKind.Int64 or ConfigValueKind.Double or ConfigValueKind.Boolean;

    /// <summary>Wraps a bool.</summary>
    /// <param name="value">The value.</param>
    /// <returns>The config value.</returns>
    public static ConfigValue FromBoolean(bool value) => new(ConfigValueKind.Boolean, value ? 1 : 0, 0, null);

    /// <summary>Wraps an integer.</summary>
    /// <param name="value">The value.</param>
    /// <returns>The config value.</returns>
    public static ConfigValue FromInt64(long value) => new(ConfigValueKind.Int64, value, 0, null);

    /// <summary>Wraps a double.</summary>
    /// <param name="value">The value.</param>
    /// <returns>The config value.</returns>
    public static ConfigValue FromDouble(double value) => new(ConfigValueKind.Double, 0, value, null);

    /// <summary>Wraps a string.</summary>
    /// <param name="value">The value.</param>
    /// <returns>The config value.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="value"/> is null.</exception>
    public static ConfigValue FromString(string value) =>
        new(ConfigValueKind.String, 0, 0, value ?? throw new ArgumentNullException(nameof(value)));

    /// <summary>Wraps a copy of a byte array.</summary>
    /// <param name="value">The value.</param>
    /// <returns>The config value.</returns>
    public static ConfigValue FromBytes(ReadOnlySpan<byte> value) => new(ConfigValueKind.Bytes, 0, 0, value.ToArray());

    /// <summary>Converts a bool.</summary>
    /// <param name="value">The value.</param>
    public static implicit operator ConfigValue(bool value) => FromBoolean(value);

    /// <summary>Converts an int.</summary>
    /// <param name="value">The value.</param>
    public static implicit operator ConfigValue(int value) => FromInt64(value);

    /// <summary>Converts a long.</summary>
    /// <param name="value">The value.</param>
    public static implicit operator ConfigValue(long value) => FromInt64(value);

    /// <summary>Converts a double.</summary>
    /// <param name="value">The value.</param>
    public static implicit operator ConfigValue(double value) => FromDouble(value);

    /// <summary>Converts a string.</summary>
    /// <param name="value">The value.</param>
    public static implicit operator ConfigValue(string value) => FromString(value);

    /// <summary>Converts a byte array.</summary>
    /// <param name="value">The value.</param>
    public static implicit operator ConfigValue(byte[] value) => FromBytes(value);

    /// <summary>The value as a bool.</summary>
    /// <returns>The value.</returns>
    /// <exception cref="InvalidCastException">The value is not a bool.</exception>
    public bool AsBoolean() => Kind == ConfigValueKind.Boolean ? _integer != 0 : throw Mismatch(ConfigValueKind.Boolean);

    /// <summary>The value as an integer.</summary>
    /// <returns>The value.</returns>
    /// <exception cref="InvalidCastException">The value is not an integer.</exception>
    public long AsInt64() => Kind == ConfigValueKind.Int64 ? _integer : throw Mismatch(ConfigValueKind.Int64);

    /// <summary>The value as a double; integers and bools convert.</summary>
    /// <returns>The value.</returns>
    /// <exception cref="InvalidCastException">The value is a string or bytes.</exception>
    public double AsDouble() => Kind switch
    {
        ConfigValueKind.Double => _number,
        ConfigValueKind.Int64 or ConfigValueKind.Boolean => _integer,
        _ => throw Mismatch(ConfigValueKind.Double),
    };

    /// <summary>The value as a string.</summary>
    /// <returns>The value.</returns>
    /// <exception cref="InvalidCastException">The value is not a string.</exception>
    public string AsString() => Kind == ConfigValueKind.String ? (string)_reference! : throw Mismatch(ConfigValueKind.String);

    /// <summary>The value as bytes.</summary>
    /// <returns>The value.</returns>
    /// <exception cref="InvalidCastException">The value is not bytes.</exception>
    public ReadOnlyMemory<byte> AsBytes() => Kind == ConfigValueKind.Bytes ? (byte[])_reference! : throw Mismatch(ConfigValueKind.Bytes);

    /// <inheritdoc />
    public bool Equals(ConfigValue other) => Kind == other.Kind && Kind switch
    {
        ConfigValueKind.Double => _number.Equals(other._number),
        ConfigValueKind.String => (string)_reference! == (string)other._reference!,
        ConfigValueKind.Bytes => ((byte[])_reference!).AsSpan().SequenceEqual((byte[])other._reference!),
        _ => _integer == other._integer,
    };

    /// <inheritdoc />
    public override bool Equals(object? obj) => obj is ConfigValue other && Equals(other);

    /// <inheritdoc />
    public override int GetHashCode() => HashCode.Combine(Kind, _integer, _number, _reference is string s ? s.GetHashCode(StringComparison.Ordinal) : 0);

    /// <summary>Compares two values.</summary>
    /// <param name="left">The left value.</param>
    /// <param name="right">The right value.</param>
    /// <returns>Whether they are equal.</returns>
    public static bool operator ==(ConfigValue left, ConfigValue right) => left.Equals(right);

    /// <summary>Compares two values.</summary>
    /// <param name="left">The left value.</param>
    /// <param name="right">The right value.</param>
    /// <returns>Whether they differ.</returns>
    public static bool operator !=(ConfigValue left, ConfigValue right) => !left.Equals(right);

    /// <inheritdoc />
    public override string ToString() => Kind switch
    {
        ConfigValueKind.Boolean => AsBoolean() ? "true" : "false",
        ConfigValueKind.Int64 => _integer.ToString(CultureInfo.InvariantCulture),
        ConfigValueKind.Double => _number.ToString("R", CultureInfo.InvariantCulture),
        ConfigValueKind.String => (string)_reference!,
        _ => $"<{((byte[])_reference!).Length} bytes>",
    };

    private InvalidCastException Mismatch(ConfigValueKind wanted) => new($"The value is a {Kind}, not a {wanted}.");
}
