using System.Collections;
using System.Diagnostics.CodeAnalysis;

namespace FederatedSharp.Clients;

/// <summary>
/// Typed key/value pairs used for round configuration (server to client), client properties and metrics (client to
/// server). Build it with a collection initializer; once <see cref="Freeze"/> has run (the server freezes every
/// record it sends) it is read-only and can be shared between clients safely.
/// </summary>
public sealed class ConfigRecord : IReadOnlyDictionary<string, ConfigValue>
{
    private readonly Dictionary<string, ConfigValue> _values;
    private bool _frozen;

    /// <summary>Creates an empty record.</summary>
    public ConfigRecord()
    {
        _values = new Dictionary<string, ConfigValue>(StringComparer.Ordinal);
    }

    /// <summary>Creates a record holding a copy of <paramref name="values"/>.</summary>
    /// <param name="values">The entries.</param>
    public ConfigRecord(IEnumerable<KeyValuePair<string, ConfigValue>> values)
    {
        ArgumentNullException.ThrowIfNull(values);
        _values = new Dictionary<string, ConfigValue>(values, StringComparer.Ordinal);
    }

    /// <summary>An empty, frozen record.</summary>
    public static ConfigRecord Empty { get; } = new ConfigRecord().Freeze();

    /// <summary>Whether the record is read-only.</summary>
    public bool IsFrozen => _frozen;

    /// <inheritdoc />
    public int Count => _values.Count;

    /// <inheritdoc />
    public IEnumerable<string> Keys => _values.Keys;

    /// <inheritdoc />
    public IEnumerable<ConfigValue> Values => _values.Values;

    /// <summary>Gets or sets the value of <paramref name="key"/>.</summary>
    /// <param name="key">The key.</param>
    /// <returns>The value.</returns>
    /// <exception cref="KeyNotFoundException">On get: the key is absent.</exception>
    /// <exception cref="InvalidOperationException">On set: the record is frozen.</exception>
    public ConfigValue this[string key]
    {
        get => _values.TryGetValue(key, out ConfigValue value) ? value : throw new KeyNotFoundException($"The record has no key '{key}'.");
        set
        {
            ThrowIfFrozen();
            _values[key] = value;
        }
    }

    /// <summary>Adds an entry (collection initializer support).</summary>
    /// <param name="key">The key.</param>
    /// <param name="value">The value.</param>
    /// <exception cref="InvalidOperationException">The record is frozen.</exception>
    /// <exception cref="ArgumentException">The key exists.</exception>
    public void Add(string key, ConfigValue value)
    {
        ThrowIfFrozen();
        _values.Add(key, value);
    }

    /// <summary>Makes the record read-only.</summary>
    /// <returns>This record.</returns>
    public ConfigRecord Freeze()
    {
        _frozen = true;
        return this;
    }

    /// <summary>A mutable copy.</summary>
    /// <returns>The copy.</returns>
    public ConfigRecord Copy() => new(_values);

    /// <inheritdoc />
    public bool ContainsKey(string key) => _values.ContainsKey(key);

    /// <inheritdoc />
    public bool TryGetValue(string key, [MaybeNullWhen(false)] out ConfigValue value) => _values.TryGetValue(key, out value);

    /// <summary>The number at <paramref name="key"/>, or <paramref name="defaultValue"/> when absent.</summary>
    /// <param name="key">The key.</param>
    /// <param name="defaultValue">The fallback.</param>
    /// <returns>The value.</returns>
    /// <exception cref="InvalidCastException">The value is not numeric.</exception>
    public double GetDouble(string key, double defaultValue) => _values.TryGetValue(key, out ConfigValue v) ? v.AsDouble() : defaultValue;

    /// <summary>The integer at <paramref name="key"/>, or <paramref name="defaultValue"/> when absent.</summary>
    /// <param name="key">The key.</param>
    /// <param name="defaultValue">The fallback.</param>
    /// <returns>The value.</returns>
    /// <exception cref="InvalidCastException">The value is not an integer.</exception>
    public long GetInt64(string key, long defaultValue) => _values.TryGetValue(key, out ConfigValue v) ? v.AsInt64() : defaultValue;

    /// <summary>The bool at <paramref name="key"/>, or <paramref name="defaultValue"/> when absent.</summary>
    /// <param name="key">The key.</param>
    /// <param name="defaultValue">The fallback.</param>
    /// <returns>The value.</returns>
    /// <exception cref="InvalidCastException">The value is not a bool.</exception>
    public bool GetBoolean(string key, bool defaultValue) => _values.TryGetValue(key, out ConfigValue v) ? v.AsBoolean() : defaultValue;

    /// <summary>The string at <paramref name="key"/>, or <paramref name="defaultValue"/> when absent.</summary>
    /// <param name="key">The key.</param>
    /// <param name="defaultValue">The fallback.</param>
    /// <returns>The value.</returns>
    /// <exception cref="InvalidCastException">The value is not a string.</exception>
    public string GetString(string key, string defaultValue) => _values.TryGetValue(key, out ConfigValue v) ? v.AsString() : defaultValue;

    /// <inheritdoc />
    public IEnumerator<KeyValuePair<string, ConfigValue>> GetEnumerator() => _values.GetEnumerator();

    /// <inheritdoc />
    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    /// <inheritdoc />
    public override string ToString() => "{" + string.Join(", ", _values.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => $"{p.Key}={p.Value}")) + "}";

    private void ThrowIfFrozen()
    {
        if (_frozen)
        {
            throw new InvalidOperationException("The record is frozen (it was sent to clients); make a Copy() to change it.");
        }
    }
}
