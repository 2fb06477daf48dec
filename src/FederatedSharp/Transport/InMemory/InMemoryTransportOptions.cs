namespace FederatedSharp.Transport.InMemory;

/// <summary>Settings of <see cref="InMemoryTransport"/>.</summary>
public sealed class InMemoryTransportOptions
{
    /// <summary>
    /// How many client calls run at once (default: the number of processors). Bounds memory and CPU with thousands of
    /// virtual clients: a fit keeps its slot until its <see cref="Clients.FitResult"/> is disposed, so at most this many
    /// updates exist at once. Callers must dispose each fit result before awaiting more than this many further fits.
    /// </summary>
    public int MaxConcurrency { get; set; } = Environment.ProcessorCount;

    /// <summary>
    /// When set, every model crossing the transport (the global model to each client, each client's update back) is
    /// serialized with it and deserialized again, as over a network: lossy encodings (for example
    /// <see cref="Serialization.BinaryModelSerializer"/> with float16 or int8) then act on the federation exactly as they
    /// would on the wire, and <see cref="InMemoryTransport.BytesSent"/>/<see cref="InMemoryTransport.BytesReceived"/> count
    /// the bytes. Null (default) passes copies without serializing.
    /// </summary>
    public Serialization.IModelSerializer? WireSerializer { get; set; }

    /// <summary>
    /// The serializer of the clients' updates when it differs from <see cref="WireSerializer"/>'s (which then carries
    /// only the global model down): for example int8 models down and <see cref="Serialization.SparseModelSerializer"/>
    /// top-k deltas up. Null (default) uses <see cref="WireSerializer"/> both ways.
    /// </summary>
    public Serialization.IModelSerializer? UplinkSerializer { get; set; }

    /// <summary>Seeded fault injection (latency, drop-outs, exceptions); null for none (the default).</summary>
    public FaultInjectionOptions? Faults { get; set; }

    /// <summary>Checks the settings.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A setting is out of range.</exception>
    public void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxConcurrency, 1, nameof(MaxConcurrency));
        Faults?.Validate();
    }
}
