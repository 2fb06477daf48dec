using FederatedSharp.Aggregation;
using FederatedSharp.Clients;
using FederatedSharp.Parameters;
using FederatedSharp.Server.Engine;

namespace FederatedSharp.Server.Features.BufferedAsync;

/// <summary>
/// Buffered asynchronous rounds (FedBuff, Nguyen et al. 2022) on the round engine: up to
/// <see cref="BufferedAsyncOptions.Concurrency"/> clients train at once, each from the model version current when it
/// started; every finished update goes through the update pipeline (validated against its start model, then re-based
/// by <see cref="FedBuffRebaseStage"/>), and once <see cref="BufferedAsyncOptions.BufferSize"/> are in, the strategy
/// aggregates them into the next version, so a server optimizer (FedAdam...) applies its step. With
/// <see cref="FederatedServerOptions.DeterministicAggregationOrder"/> updates are taken in start order, which makes a
/// run reproducible and resumable bit for bit; otherwise as they finish.
/// </summary>
internal sealed class BufferedAsyncRounds(BufferedAsyncOptions options) : RoundDriver
{
    private readonly List<InFlight> _inFlight = new();
    private readonly Dictionary<int, ModelParameters> _snapshots = new();
    private List<(string ClientId, int Version, ConfigRecord Config)>? _restored;
    private CancellationTokenSource? _stop;
    private long _dispatched;

    public BufferedAsyncOptions Options => options;

    public override string Describe(IAggregator aggregator) => "FedBuff+" + aggregator.Name;

    public override IReadOnlyList<string> EvaluationCandidates(IReadOnlyList<string> available)
    {
        var busy = _inFlight.Select(f => f.ClientId).ToHashSet(StringComparer.Ordinal);
        return available.Where(id => !busy.Contains(id)).ToArray();
    }

    /// <summary>The version a snapshot belongs to (for the re-base stage).</summary>
    public int VersionOf(ModelParameters snapshot) => _snapshots.First(p => ReferenceEquals(p.Value, snapshot)).Key;

    public override async Task<FitPhase> RunFitAsync(FederationContext context, int round, CancellationToken cancellationToken)
    {
        EngineServices services = context.Services;
        _stop ??= CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        int version = round - 1;
        var failures = new List<ClientFailure>();
        var results = new List<ClientFitMetrics>();
        var finished = new List<string>();
        using var pipeline = new UpdatePipeline(services.Stages, services.Aggregator, context.Global, new AggregationContext(round, options.BufferSize, services.Transport.GetAvailableClients().Count), services.TimeProvider,
            (id, reason) => services.Caller.Record(failures, round, new ClientFailure(id, RoundPhase.Fit, ClientFailureKind.Rejected, reason)));
        RedispatchRestored(services);
        while (pipeline.Accepted < options.BufferSize)
        {
            await FillAsync(context, version, cancellationToken).ConfigureAwait(false);
            InFlight next = await NextFinishedAsync(services.Options.DeterministicAggregationOrder).ConfigureAwait(false);
            _inFlight.Remove(next);
            ClientOutcome<FitResult> outcome = await next.Call.ConfigureAwait(false);
            finished.Add(next.ClientId);
            using (outcome.Result)
            {
                int staleness = version - next.Version;
                if (outcome.Failure is not null)
                {
                    services.Caller.Record(failures, round, outcome.Failure);
                }
                else if (staleness > options.MaxStaleness)
                {
                    services.Caller.Record(failures, round, new ClientFailure(next.ClientId, RoundPhase.Fit, ClientFailureKind.Rejected, $"update {staleness} server updates stale (limit {options.MaxStaleness})."));
                }
                else
                {
                    FitResult result = outcome.Result!;
                    pipeline.Add(new[] { new ClientUpdate(next.ClientId, result.Parameters, result.ExampleCount, result.Metrics) { StartedFrom = _snapshots[next.Version] } });
                    if (!pipeline.WasRejected(next.ClientId))
                    {
                        results.Add(new ClientFitMetrics(next.ClientId, result.ExampleCount, result.Metrics));
                    }
                }
            }

            ReleaseSnapshots(version);
        }

        cancellationToken.ThrowIfCancellationRequested();
        return Complete(services, round, pipeline, finished, failures, results);
    }

    public AggregatorState ExportState(FederationContext context)
    {
        var state = new AggregatorState("FedBuff", context.Global.Layout);
        state.Scalars["dispatched"] = _dispatched;
        state.Scalars["in_flight"] = (long)_inFlight.Count;
        for (int i = 0; i < _inFlight.Count; i++)
        {
            InFlight f = _inFlight[i];
            state.Scalars[$"in_flight/{i}/client"] = f.ClientId;
            state.Scalars[$"in_flight/{i}/version"] = (long)f.Version;
            state.Scalars[$"in_flight/{i}/config"] = ConfigValue.FromBytes(ConfigBytes(f.Config));
        }

        foreach (int v in _inFlight.Select(f => f.Version).Distinct())
        {
            state.SetTensor($"snapshot/{v}", _snapshots[v].Values);
        }

        return state;
    }

    public void ImportState(FederationContext context, AggregatorState state)
    {
        state.EnsureFor("FedBuff", context.Global.Layout);
        _dispatched = state.Scalars.GetInt64("dispatched", 0);
        _restored = new();
        for (int i = 0; i < state.Scalars.GetInt64("in_flight", 0); i++)
        {
            int v = (int)state.Scalars.GetInt64($"in_flight/{i}/version", 0);
            ConfigRecord config = ConfigFromBytes(state.Scalars[$"in_flight/{i}/config"].AsBytes().Span);
            _restored.Add((state.Scalars.GetString($"in_flight/{i}/client", ""), v, config));
            if (!_snapshots.ContainsKey(v))
            {
                float[] values = state.CopyTensor($"snapshot/{v}") ?? throw new FederatedSharp.Server.Checkpoints.CheckpointException($"The FedBuff state lacks the snapshot of version {v}.");
                _snapshots[v] = ModelParameters.FromValues(context.Global.Layout, values);
            }
        }
    }

    public override async ValueTask DisposeAsync()
    {
        if (_stop is not null)
        {
            await _stop.CancelAsync().ConfigureAwait(false);
        }

        foreach (InFlight pending in _inFlight)
        {
            ClientOutcome<FitResult> late = await pending.Call.ConfigureAwait(false);
            late.Result?.Dispose();
        }

        foreach (ModelParameters snapshot in _snapshots.Values)
        {
            snapshot.Dispose();
        }

        _inFlight.Clear();
        _snapshots.Clear();
        _restored = null;
        _dispatched = 0;
        _stop?.Dispose();
        _stop = null;
    }

    private static FitPhase Complete(EngineServices services, int round, UpdatePipeline pipeline, List<string> finished, List<ClientFailure> failures, List<ClientFitMetrics> results)
    {
        try
        {
            ModelParameters next = pipeline.Complete();
            return new FitPhase { Next = next, FitClients = finished, Aggregated = pipeline.Accepted, Results = results, Failures = failures, AggregatorMetrics = pipeline.Metrics };
        }
        catch (Exception ex) when (ex is InvalidOperationException or ArgumentException)
        {
            string reason = $"{services.Aggregator.Name} could not aggregate {pipeline.Accepted} buffered updates: {ex.Message}";
            Diagnostics.Log.AggregationFailed(services.Logger, round, reason);
            return new FitPhase { FailureReason = reason, FitClients = finished, Aggregated = pipeline.Accepted, Results = results, Failures = failures };
        }
    }

    private async Task FillAsync(FederationContext context, int version, CancellationToken cancellationToken)
    {
        EngineServices services = context.Services;
        IReadOnlyList<string> available = await services.WaitForClientsAsync(services.Options.MinAvailableClients, cancellationToken).ConfigureAwait(false);
        var busy = _inFlight.Select(v => v.ClientId).ToHashSet(StringComparer.Ordinal);
        List<string> idle = services.FilterClients(context, version + 1, available).Where(id => !busy.Contains(id)).ToList();
        while (_inFlight.Count < options.Concurrency && idle.Count > 0)
        {
            var random = new DeterministicRandom(DeterministicRandom.Mix(services.Options.Seed, 0xFEDB0FF, (ulong)_dispatched++));
            string id = idle[random.Next(idle.Count)];
            idle.Remove(id);
            if (!_snapshots.ContainsKey(version))
            {
                _snapshots[version] = context.Global.Clone();
            }

            Dispatch(services, id, version, services.CreateFitConfig(version + 1));
        }

        if (_inFlight.Count == 0)
        {
            throw new FederationFailedException("No client can train: every available client is busy or none is connected.", context.History);
        }
    }

    private void RedispatchRestored(EngineServices services)
    {
        if (_restored is null)
        {
            return;
        }

        foreach ((string id, int v, ConfigRecord config) in _restored)
        {
            Dispatch(services, id, v, config);
        }

        _restored = null;
    }

    private void Dispatch(EngineServices services, string clientId, int version, ConfigRecord config)
    {
        var instructions = new FitInstructions(version + 1, _snapshots[version], config);

        // The result is copied off the transport at once, so an update waiting in the buffer holds no transport slot
        // (the evaluate phase runs while other clients are still training).
        Task<ClientOutcome<FitResult>> call = services.Caller.CallAsync(clientId, RoundPhase.Fit, version + 1, services.Options.FitTimeout, async (c, ct) =>
        {
            using FitResult received = await services.FitAsync(c, clientId, instructions, ct).ConfigureAwait(false);
            return new FitResult(received.Parameters.Clone(), received.ExampleCount, received.Metrics);
        }, _stop!.Token);
        _inFlight.Add(new InFlight(call, clientId, version, config));
    }

    private async Task<InFlight> NextFinishedAsync(bool inStartOrder)
    {
        if (inStartOrder)
        {
            await _inFlight[0].Call.ConfigureAwait(false);
            return _inFlight[0];
        }

        // In start order: when several calls have finished, the earliest started is taken first.
        await Task.WhenAny(_inFlight.Select(f => f.Call)).ConfigureAwait(false);
        return _inFlight.First(f => f.Call.IsCompleted);
    }

    private void ReleaseSnapshots(int currentVersion)
    {
        foreach (int v in _snapshots.Keys.Where(v => v != currentVersion && !_inFlight.Any(f => f.Version == v)).ToArray())
        {
            _snapshots.Remove(v, out ModelParameters? snapshot);
            snapshot!.Dispose();
        }
    }

    private static byte[] ConfigBytes(ConfigRecord config)
    {
        var state = new AggregatorState("config", null);
        foreach ((string key, ConfigValue value) in config)
        {
            state.Scalars[key] = value;
        }

        return state.ToBytes();
    }

    private static ConfigRecord ConfigFromBytes(ReadOnlySpan<byte> bytes) => AggregatorState.FromBytes(bytes).Scalars.Copy().Freeze();

    private sealed record InFlight(Task<ClientOutcome<FitResult>> Call, string ClientId, int Version, ConfigRecord Config);
}
