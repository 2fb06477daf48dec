using System.Buffers.Binary;
using System.Collections.Concurrent;
using FederatedSharp.Aggregation;
using FederatedSharp.Serialization;

namespace FederatedSharp.Clients;

/// <summary>
/// Every client's <see cref="ClientState"/>, keyed by client id: what a simulation (or any deployment that hosts many
/// clients in one process) hands its clients so their state survives the re-creation of the client object. The
/// in-memory transport owns one (<see cref="Transport.InMemory.InMemoryTransport.ClientStates"/>) and the server's
/// checkpoints save and restore it. Thread-safe.
/// </summary>
public sealed class ClientStateStore
{
    private readonly ConcurrentDictionary<string, ClientState> _states = new(StringComparer.Ordinal);

    /// <summary>The ids of the clients with a state, sorted by ordinal.</summary>
    public IReadOnlyList<string> ClientIds => _states.Keys.Order(StringComparer.Ordinal).ToArray();

    /// <summary>The state of <paramref name="clientId"/>, created empty on first use.</summary>
    /// <param name="clientId">The client's id.</param>
    /// <returns>The state (the same object for the same id).</returns>
    /// <exception cref="ArgumentException"><paramref name="clientId"/> is null or empty.</exception>
    public ClientState Get(string clientId)
    {
        ArgumentException.ThrowIfNullOrEmpty(clientId);
        return _states.GetOrAdd(clientId, static id => new ClientState(id));
    }

    /// <summary>Writes every non-empty state (sorted by client id, so equal stores give equal bytes).</summary>
    /// <returns>The bytes; read them back with <see cref="RestoreFrom"/>.</returns>
    public byte[] ToBytes()
    {
        var parts = new List<byte[]>();
        foreach (string id in ClientIds)
        {
            if (_states[id].Keys.Count == 0)
            {
                continue;
            }

            var state = new AggregatorState(id, null);
            foreach ((string key, ConfigValue value) in _states[id].ToRecord())
            {
                state.Scalars[key] = value;
            }

            parts.Add(state.ToBytes());
        }

        var bytes = new byte[4 + parts.Sum(p => 4 + p.Length)];
        BinaryPrimitives.WriteInt32LittleEndian(bytes, parts.Count);
        int position = 4;
        foreach (byte[] part in parts)
        {
            BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(position), part.Length);
            part.CopyTo(bytes.AsSpan(position + 4));
            position += 4 + part.Length;
        }

        return bytes;
    }

    /// <summary>Replaces every state with those written by <see cref="ToBytes"/> (clients not in the bytes are cleared).</summary>
    /// <param name="bytes">The bytes.</param>
    /// <exception cref="ModelFormatException">The bytes are truncated or malformed.</exception>
    public void RestoreFrom(ReadOnlySpan<byte> bytes)
    {
        var restored = new Dictionary<string, ConfigRecord>(StringComparer.Ordinal);
        if (bytes.Length < 4)
        {
            throw new ModelFormatException("The client state section is truncated.");
        }

        int count = BinaryPrimitives.ReadInt32LittleEndian(bytes);
        int position = 4;
        for (int i = 0; i < count; i++)
        {
            int length = position + 4 <= bytes.Length ? BinaryPrimitives.ReadInt32LittleEndian(bytes[position..]) : -1;
            if (length < 0 || position + 4 + length > bytes.Length)
            {
                throw new ModelFormatException($"The client state section is truncated at client {i} of {count}.");
            }

            AggregatorState state = AggregatorState.FromBytes(bytes.Slice(position + 4, length));
            restored[state.Strategy] = state.Scalars;
            position += 4 + length;
        }

        foreach (ClientState state in _states.Values)
        {
            state.ReplaceWith(restored.TryGetValue(state.ClientId, out ConfigRecord? record) ? record : ConfigRecord.Empty);
        }

        foreach ((string id, ConfigRecord record) in restored)
        {
            Get(id).ReplaceWith(record);
        }
    }
}
