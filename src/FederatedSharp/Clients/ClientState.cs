using System.Runtime.InteropServices;

namespace FederatedSharp.Clients;

/// <summary>
/// A client's persistent state, Flower's <c>Context.state</c>: named values that outlive one call and one client
/// object (SCAFFOLD's control variate, a DP-SGD accountant, personal layers). The deployment owns it, not the client:
/// in simulation a <see cref="ClientStateStore"/> keyed by client id (checkpointed with the server), on a node the
/// node's own storage. A client reaches it through <see cref="FitInstructions.State"/>,
/// <see cref="EvaluateInstructions.State"/> or <see cref="QueryInstructions.State"/>. Thread-safe.
/// </summary>
public sealed class ClientState
{
    private readonly Dictionary<string, ConfigValue> _values = new(StringComparer.Ordinal);

    /// <summary>Creates an empty state for <paramref name="clientId"/>.</summary>
    /// <param name="clientId">The client the state belongs to.</param>
    /// <exception cref="ArgumentException"><paramref name="clientId"/> is null or empty.</exception>
    public ClientState(string clientId)
    {
        ArgumentException.ThrowIfNullOrEmpty(clientId);
        ClientId = clientId;
    }

    /// <summary>The client the state belongs to.</summary>
    public string ClientId { get; }

    /// <summary>The names of the stored values, sorted by ordinal.</summary>
    public IReadOnlyList<string> Keys
    {
        get
        {
            lock (_values)
            {
                return _values.Keys.Order(StringComparer.Ordinal).ToArray();
            }
        }
    }

    /// <summary>Stores <paramref name="value"/> under <paramref name="key"/>, replacing what was there.</summary>
    /// <param name="key">The name.</param>
    /// <param name="value">The value.</param>
    /// <exception cref="ArgumentException"><paramref name="key"/> is null or empty.</exception>
    public void Set(string key, ConfigValue value)
    {
        ArgumentException.ThrowIfNullOrEmpty(key);
        lock (_values)
        {
            _values[key] = value;
        }
    }

    /// <summary>Reads the value stored under <paramref name="key"/>.</summary>
    /// <param name="key">The name.</param>
    /// <param name="value">The value, when found.</param>
    /// <returns>Whether a value was stored under the name.</returns>
    public bool TryGetValue(string key, out ConfigValue value)
    {
        ArgumentNullException.ThrowIfNull(key);
        lock (_values)
        {
            return _values.TryGetValue(key, out value);
        }
    }

    /// <summary>Removes the value stored under <paramref name="key"/>.</summary>
    /// <param name="key">The name.</param>
    /// <returns>Whether a value was removed.</returns>
    public bool Remove(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        lock (_values)
        {
            return _values.Remove(key);
        }
    }

    /// <summary>Stores a float array (copied) under <paramref name="key"/>.</summary>
    /// <param name="key">The name.</param>
    /// <param name="values">The values.</param>
    public void SetFloats(string key, ReadOnlySpan<float> values) => Set(key, ConfigValue.FromBytes(MemoryMarshal.AsBytes(values)));

    /// <summary>Reads a float array stored with <see cref="SetFloats"/> (a copy), or null when none is stored.</summary>
    /// <param name="key">The name.</param>
    /// <returns>The values, or null.</returns>
    /// <exception cref="InvalidOperationException">The value under <paramref name="key"/> is not a float array.</exception>
    public float[]? GetFloats(string key)
    {
        if (!TryGetValue(key, out ConfigValue value))
        {
            return null;
        }

        if (value.Kind != ConfigValueKind.Bytes || value.AsBytes().Length % sizeof(float) != 0)
        {
            throw new InvalidOperationException($"Client '{ClientId}' state '{key}' holds a {value.Kind}, not a float array.");
        }

        return MemoryMarshal.Cast<byte, float>(value.AsBytes().Span).ToArray();
    }

    /// <summary>A frozen copy of every value.</summary>
    /// <returns>The values.</returns>
    public ConfigRecord ToRecord()
    {
        lock (_values)
        {
            return new ConfigRecord(_values).Freeze();
        }
    }

    /// <summary>Replaces every value with those of <paramref name="record"/>.</summary>
    /// <param name="record">The values.</param>
    public void ReplaceWith(ConfigRecord record)
    {
        ArgumentNullException.ThrowIfNull(record);
        lock (_values)
        {
            _values.Clear();
            foreach ((string key, ConfigValue value) in record)
            {
                _values[key] = value;
            }
        }
    }
}
