using System.Collections.Concurrent;
using FederatedSharp.Clients;
using FederatedSharp.Parameters;
using FederatedSharp.Serialization;

namespace FederatedSharp.Transport.InMemory;

/// <summary>
/// A transport inside one process, for simulation and tests. It wraps <see cref="IClient"/> instances or a factory of
/// virtual clients that are created for each call and released (disposed) right after it, so 10,000 registered
/// clients cost memory only while they run. At most <see cref="InMemoryTransportOptions.MaxConcurrency"/> calls run at
/// once, and a fit's concurrency slot is held until the caller disposes the returned <see cref="FitResult"/>, which bounds
/// the number of updates alive at once (back-pressure). Every call carries the client's persistent state from
/// <see cref="ClientStates"/> (<see cref="FitInstructions.State"/>), so state survives the re-creation of virtual clients. Each client receives its own copy of the global parameters, so a misbehaving client cannot change what
/// others see. Optional seeded fault injection adds latency, drop-outs and exceptions.
/// </summary>
public sealed class InMemoryTransport : ITransport, IClientStateHost
{
    private readonly ConcurrentDictionary<string, Registration> _clients = new(StringComparer.Ordinal);
    private readonly InMemoryTransportOptions _options;
    private readonly TimeProvider _timeProvider;
    private readonly SemaphoreSlim _concurrency;
    private readonly ClientCountWaiter _waiters;
    private readonly List<InjectedFault> _injected = new();
    private readonly System.Runtime.CompilerServices.ConditionalWeakTable<IClient, string> _released = new();
    private long _bytesSent;
    private long _bytesReceived;
    private bool _disposed;

    /// <summary>Creates an empty transport.</summary>
    /// <param name="options">Settings; null for defaults.</param>
    /// <param name="timeProvider">Clock for injected latency; null for the system clock.</param>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range.</exception>
    public InMemoryTransport(InMemoryTransportOptions? options = null, TimeProvider? timeProvider = null)
    {
        _options = options ?? new InMemoryTransportOptions();
        _options.Validate();
        _timeProvider = timeProvider ?? TimeProvider.System;
        _concurrency = new SemaphoreSlim(_options.MaxConcurrency, _options.MaxConcurrency);
        _waiters = new ClientCountWaiter(() => _clients.Count);
    }

    /// <summary>Connects a client instance, which lives as long as the transport.</summary>
    /// <param name="clientId">The client's id.</param>
    /// <param name="client">The client.</param>
    /// <exception cref="ArgumentException">The id is empty or taken.</exception>
    public void AddClient(string clientId, IClient client)
    {
        ArgumentNullException.ThrowIfNull(client);
        Register(clientId, () => client);
    }

    /// <summary>
    /// Connects virtual clients: <paramref name="factory"/> creates client <c>id</c> on demand for each call; the
    /// client is disposed after the call when it implements <see cref="IDisposable"/> or <see cref="IAsyncDisposable"/>.
    /// What must outlive a call belongs in the call's <see cref="FitInstructions.State"/>. A factory that hands out the
    /// same object twice is refused with a clear failure (it was disposed after its first call): connect long-lived
    /// clients with <see cref="AddClient"/> instead.
    /// </summary>
    /// <param name="clientIds">The ids.</param>
    /// <param name="factory">Creates the client with a given id.</param>
    /// <exception cref="ArgumentException">An id is empty or taken.</exception>
    public void AddVirtualClients(IEnumerable<string> clientIds, Func<string, IClient> factory)
    {
        ArgumentNullException.ThrowIfNull(clientIds);
        ArgumentNullException.ThrowIfNull(factory);
        foreach (string id in clientIds)
        {
            string captured = id;
            Register(id, () => factory(captured) ?? throw new InvalidOperationException($"The client factory returned null for '{captured}'."), isVirtual: true);
        }
    }

    /// <inheritdoc />
    public ClientStateStore ClientStates { get; } = new();

    /// <summary>Bytes of models sent to clients through <see cref="InMemoryTransportOptions.WireSerializer"/> (0 without one).</summary>
    public long BytesSent => Interlocked.Read(ref _bytesSent);

    /// <summary>Bytes of updates received from clients through <see cref="InMemoryTransportOptions.WireSerializer"/> (0 without one).</summary>
    public long BytesReceived => Interlocked.Read(ref _bytesReceived);

    /// <summary>
    /// Raised when a fault is injected, as it happens and before its effect (a dropout is raised before the call starts
    /// to hang), on the thread of the call it hits; <see cref="InjectedFaults"/> holds the same faults afterwards.
    /// </summary>
    public event Action<InjectedFault>? FaultInjected;

    /// <summary>Every fault injected so far, in the order injected.</summary>
    public IReadOnlyList<InjectedFault> InjectedFaults
    {
        get
        {
            lock (_injected)
            {
                return _injected.ToArray();
            }
        }
    }

    /// <summary>Disconnects a client; calls already running finish.</summary>
    /// <param name="clientId">The client's id.</param>
    /// <returns>Whether the client was connected.</returns>
    public bool RemoveClient(string clientId) => _clients.TryRemove(clientId, out _);

    /// <inheritdoc />
    public IReadOnlyList<string> GetAvailableClients()
    {
        string[] ids = _clients.Keys.ToArray();
        Array.Sort(ids, StringComparer.Ordinal);
        return ids;
    }

    /// <inheritdoc />
    public Task WaitForClientsAsync(int minimum, CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        return _waiters.WaitAsync(minimum, cancellationToken);
    }

    /// <inheritdoc />
    public IClientConnection GetConnection(string clientId)
    {
        ArgumentNullException.ThrowIfNull(clientId);
        ObjectDisposedException.ThrowIf(_disposed, this);
        return _clients.ContainsKey(clientId) ? new Connection(this, clientId) : throw new UnknownClientException(clientId);
    }

    /// <inheritdoc />
    public ValueTask DisposeAsync()
    {
        _disposed = true;
        _waiters.Fail(new ObjectDisposedException(nameof(InMemoryTransport)));

        return ValueTask.CompletedTask;
    }

    private void Register(string clientId, Func<IClient> create, bool isVirtual = false)
    {
        ArgumentException.ThrowIfNullOrEmpty(clientId);
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (!_clients.TryAdd(clientId, new Registration(create, isVirtual)))
        {
            throw new ArgumentException($"A client with id '{clientId}' is already connected.", nameof(clientId));
        }

        _waiters.Notify();
    }

    private async Task<T> CallAsync<T>(string clientId, string operation, int round, ModelParameters? global, Func<IClient, ModelParameters?, Task<T>> call, CancellationToken cancellationToken)
    {
        await _concurrency.WaitAsync(cancellationToken).ConfigureAwait(false);
        bool slotHeldByResult = false;
        bool slotReleased = false;
        try
        {
            if (!_clients.TryGetValue(clientId, out Registration? registration))
            {
                throw new ClientFailedException(clientId, "the client disconnected.");
            }

            if (await InjectFaultsAsync(clientId, operation, round, cancellationToken).ConfigureAwait(false))
            {
                // A client that vanished runs nothing, so its slot goes to the others while the caller waits out its
                // deadline; the wait ends only by cancellation.
                slotReleased = true;
                _concurrency.Release();
                await Task.Delay(Timeout.InfiniteTimeSpan, _timeProvider, cancellationToken).ConfigureAwait(false);
            }

            IClient client = Create(clientId, registration);
            bool release = registration.IsVirtual;
            using ModelParameters? copy = global is null ? null : OverTheWire(global, _options.WireSerializer, ref _bytesSent);
            try
            {
                T result = await call(client, copy).ConfigureAwait(false);
                if (result is FitResult fitted)
                {
                    result = (T)(object)CorruptIfPlanned(clientId, round, Receive(fitted));
                }

                if (result is FitResult fit)
                {
                    // Back-pressure: the slot stays taken until the server has consumed (disposed) the update, so at
                    // most MaxConcurrency updates exist at once however many virtual clients the round samples.
                    fit.AttachLease(() => _concurrency.Release());
                    slotHeldByResult = true;
                }

                return result;
            }
            catch (Exception ex) when (ex is not ClientFailedException && ex is not UnsupportedTaskException && (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested))
            {
                throw new ClientFailedException(clientId, $"{operation} threw {ex.GetType().Name}: {ex.Message}", ex);
            }
            finally
            {
                if (release)
                {
                    _released.AddOrUpdate(client, clientId);
                    if (client is IAsyncDisposable asyncDisposable)
                    {
                        await asyncDisposable.DisposeAsync().ConfigureAwait(false);
                    }
                    else if (client is IDisposable disposable)
                    {
                        disposable.Dispose();
                    }
                }
            }
        }
        finally
        {
            if (!slotHeldByResult && !slotReleased)
            {
                _concurrency.Release();
            }
        }
    }

    private IClient Create(string clientId, Registration registration)
    {
        IClient client = registration.Create();
        if (registration.IsVirtual && _released.TryGetValue(client, out string? earlier))
        {
            throw new ClientFailedException(clientId,
                $"the client factory returned an object it had already returned for '{earlier}', which was disposed after that call. A virtual-client factory must create a new client per call (keep lasting state in FitInstructions.State); connect long-lived clients with InMemoryTransport.AddClient or FederatedSimulation.RunAsync(clients, ...).");
        }

        return client;
    }

    /// <summary>Applies the planned latency and crash; returns whether the plan drops this call out (never answered).</summary>
    private async Task<bool> InjectFaultsAsync(string clientId, string operation, int round, CancellationToken cancellationToken)
    {
        FaultInjectionOptions? faults = _options.Faults;
        if (faults is null)
        {
            return false;
        }

        var random = FaultStream(faults, clientId, operation, round);
        double latencyDraw = random.NextDouble();
        double dropoutDraw = random.NextDouble();
        double failureDraw = random.NextDouble();
        TimeSpan latency = faults.MinLatency + ((faults.MaxLatency - faults.MinLatency) * latencyDraw);
        if (latency > TimeSpan.Zero)
        {
            await Task.Delay(latency, _timeProvider, cancellationToken).ConfigureAwait(false);
        }

        if (dropoutDraw < faults.DropoutProbability)
        {
            Note(round, clientId, operation, InjectedFaultKind.Dropout);
            return true;
        }

        if (failureDraw < faults.FailureProbability)
        {
            Note(round, clientId, operation, InjectedFaultKind.Crash);
            throw new ClientFailedException(clientId, $"injected crash during {operation} in round {round}.");
        }

        return false;
    }

    private FitResult CorruptIfPlanned(string clientId, int round, FitResult result)
    {
        FaultInjectionOptions? faults = _options.Faults;
        if (faults is null || faults.CorruptionProbability <= 0)
        {
            return result;
        }

        var random = FaultStream(faults, clientId, "fit", round);
        random.NextDouble();
        random.NextDouble();
        random.NextDouble();
        double corruptionDraw = random.NextDouble();
        if (corruptionDraw >= faults.CorruptionProbability || result.Parameters.Length == 0)
        {
            return result;
        }

        if (corruptionDraw < faults.CorruptionProbability / 2)
        {
            // On the wire: flip one bit of the serialized update; the receiver's checksum must catch it.
            Note(round, clientId, "fit", InjectedFaultKind.CorruptedPayload);
            var serializer = new BinaryModelSerializer();
            byte[] bytes = serializer.SerializeToArray(result.Parameters);
            result.Dispose();
            int bit = random.Next(bytes.Length * 8);
            bytes[bit / 8] ^= (byte)(1 << (bit % 8));
            try
            {
                ModelParameters parameters = serializer.Deserialize(bytes);
                throw new InvalidOperationException($"A flipped bit went unnoticed by the deserializer: {parameters.Length} values read.");
            }
            catch (ModelFormatException ex)
            {
                throw new ClientFailedException(clientId, $"corrupted payload in round {round}: {ex.Message}", ex);
            }
        }

        // In the values: a NaN the server's validation must reject before aggregation.
        Note(round, clientId, "fit", InjectedFaultKind.CorruptedValues);
        result.Parameters.Values[random.Next(result.Parameters.Length)] = float.NaN;
        return result;
    }

    private static ModelParameters OverTheWire(ModelParameters parameters, IModelSerializer? wire, ref long counter)
    {
        if (wire is null)
        {
            return parameters.Clone();
        }

        var buffer = new System.Buffers.ArrayBufferWriter<byte>();
        wire.Serialize(parameters, buffer);
        Interlocked.Add(ref counter, buffer.WrittenCount);
        return wire.Deserialize(new System.Buffers.ReadOnlySequence<byte>(buffer.WrittenMemory));
    }

    private FitResult Receive(FitResult result)
    {
        IModelSerializer? wire = _options.UplinkSerializer ?? _options.WireSerializer;
        if (wire is null)
        {
            return result;
        }

        using (result)
        {
            return new FitResult(OverTheWire(result.Parameters, wire, ref _bytesReceived), result.ExampleCount, result.Metrics);
        }
    }

    private static DeterministicRandom FaultStream(FaultInjectionOptions faults, string clientId, string operation, int round) =>
        new(DeterministicRandom.Mix(faults.Seed, (ulong)round, DeterministicRandom.HashString(clientId), DeterministicRandom.HashString(operation)));

    private void Note(int round, string clientId, string operation, InjectedFaultKind kind)
    {
        var fault = new InjectedFault(round, clientId, operation, kind);
        lock (_injected)
        {
            _injected.Add(fault);
        }

        FaultInjected?.Invoke(fault);
    }

    private sealed record Registration(Func<IClient> Create, bool IsVirtual);

    private sealed class Connection(InMemoryTransport transport, string clientId) : IClientConnection
    {
        public string ClientId => clientId;

        public async Task<ConfigRecord> GetPropertiesAsync(CancellationToken cancellationToken = default)
        {
            if (!transport._clients.TryGetValue(clientId, out Registration? registration))
            {
                throw new UnknownClientException(clientId);
            }

            IClient client = registration.Create();
            try
            {
                return await client.GetPropertiesAsync(cancellationToken).ConfigureAwait(false);
            }
            finally
            {
                if (registration.IsVirtual && client is IDisposable disposable)
                {
                    disposable.Dispose();
                }
            }
        }

        public Task<FitResult> FitAsync(FitInstructions instructions, CancellationToken cancellationToken = default)
        {
            ArgumentNullException.ThrowIfNull(instructions);
            return transport.CallAsync(clientId, "fit", instructions.Round, instructions.Parameters,
                (client, copy) => client.FitAsync(new FitInstructions(instructions.Round, copy!, instructions.Config) { State = transport.ClientStates.Get(clientId) }, cancellationToken),
                cancellationToken);
        }

        public Task<EvaluateResult> EvaluateAsync(EvaluateInstructions instructions, CancellationToken cancellationToken = default)
        {
            ArgumentNullException.ThrowIfNull(instructions);
            return transport.CallAsync(clientId, "evaluate", instructions.Round, instructions.Parameters,
                (client, copy) => client.EvaluateAsync(new EvaluateInstructions(instructions.Round, copy!, instructions.Config) { State = transport.ClientStates.Get(clientId) }, cancellationToken),
                cancellationToken);
        }

        public Task<QueryResult> QueryAsync(QueryInstructions instructions, CancellationToken cancellationToken = default)
        {
            ArgumentNullException.ThrowIfNull(instructions);
            return transport.CallAsync(clientId, "query:" + instructions.Name, 0, instructions.Parameters,
                (client, copy) => client.QueryAsync(new QueryInstructions(instructions.Name, instructions.Config, copy) { State = transport.ClientStates.Get(clientId) }, cancellationToken),
                cancellationToken);
        }
    }
}
