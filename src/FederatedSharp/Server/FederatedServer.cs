using FederatedSharp.Privacy.SecureAggregation;
using System.Diagnostics;
using FederatedSharp.Aggregation;
using FederatedSharp.Clients;
using FederatedSharp.Diagnostics;
using FederatedSharp.Parameters;
using FederatedSharp.Privacy;
using FederatedSharp.Server.Checkpoints;
using FederatedSharp.Transport;
using Microsoft.Extensions.Logging;

namespace FederatedSharp.Server;

/// <summary>
/// The federation's server: owns the global model and runs the round loop. Per round it waits for
/// <see cref="FederatedServerOptions.MinAvailableClients"/>, samples clients with the seeded sampler, sends them the
/// global parameters and the round's configuration, validates each result and hands it to the aggregator, builds the
/// new global model when at least <see cref="FederatedServerOptions.MinFitClients"/> updates are valid (otherwise the
/// previous one stands), runs federated and centralized evaluation, records the round in the <see cref="History"/> and
/// reports progress. Client failures, timeouts and invalid updates are recorded and never stop the federation.
/// Create it with <see cref="FederatedServerBuilder"/>.
/// </summary>
public sealed partial class FederatedServer
{
    private readonly ITransport _transport;
    private readonly IAggregator _aggregator;
    private readonly ModelParameters _initialParameters;
    private readonly FederatedServerOptions _options;
    private readonly Func<int, ConfigRecord>? _fitConfig;
    private readonly Func<int, ConfigRecord>? _evaluateConfig;
    private readonly CentralizedEvaluator? _centralizedEvaluator;
    private readonly ILogger _logger;
    private readonly TimeProvider _timeProvider;
    private readonly UpdateValidator _validator;
    private readonly ICheckpointStore? _checkpoints;
    private readonly BufferedAsyncOptions? _buffered;
    private readonly Audit.IAuditLog? _audit;
    private readonly SecureAggregationServer? _secure;
    private readonly Dictionary<string, ClientHealth> _health = new(StringComparer.Ordinal);
    private int _running;

    internal FederatedServer(
        ITransport transport,
        IAggregator aggregator,
        ModelParameters initialParameters,
        FederatedServerOptions options,
        Func<int, ConfigRecord>? fitConfig,
        Func<int, ConfigRecord>? evaluateConfig,
        CentralizedEvaluator? centralizedEvaluator,
        ILogger logger,
        TimeProvider timeProvider,
        ICheckpointStore? checkpoints,
        BufferedAsyncOptions? buffered,
        Audit.IAuditLog? audit = null,
        SecureAggregationServer? secure = null)
    {
        _audit = audit;
        _secure = secure;
        _checkpoints = checkpoints;
        _buffered = buffered;
        _transport = transport;
        _aggregator = aggregator;
        _initialParameters = initialParameters;
        _options = options;
        _fitConfig = fitConfig;
        _evaluateConfig = evaluateConfig;
        _centralizedEvaluator = centralizedEvaluator;
        _logger = logger;
        _timeProvider = timeProvider;
        _validator = new UpdateValidator(options.Validation);
    }

    /// <summary>The options in force (a copy taken at build time).</summary>
    public FederatedServerOptions Options => _options;

    /// <summary>The aggregation strategy.</summary>
    public IAggregator Aggregator => _aggregator;

    /// <summary>
    /// A fingerprint of everything that decides the federation's outcome and must not change across a resume: the
    /// seed, sampling and aggregation-order settings, round policy, quarantine rules, the strategy's type and name,
    /// and the model layout. <see cref="FederatedServerOptions.Rounds"/> and deadlines are left out, so a resumed
    /// federation may run longer or wait longer.
    /// </summary>
    public ulong ConfigurationHash
    {
        get
        {
            string text = string.Join("|",
                _options.Seed, _options.FractionFit.ToString("R", System.Globalization.CultureInfo.InvariantCulture), _options.MinFitClients,
                _options.FractionEvaluate.ToString("R", System.Globalization.CultureInfo.InvariantCulture), _options.MinEvaluateClients,
                _options.MinAvailableClients, _options.DeterministicAggregationOrder, _options.ProceedAfterResults, _options.ProceedAfterFraction,
                _options.QuarantineAfterFailures, _options.QuarantineRounds, _aggregator.GetType().FullName, _aggregator.Name, _initialParameters.Layout.Hash);
            return System.IO.Hashing.XxHash64.HashToUInt64(System.Text.Encoding.UTF8.GetBytes(text));
        }
    }

    /// <summary>Runs every round and returns the final model with the history.</summary>
    /// <param name="progress">Receives a report after every round; null for none.</param>
    /// <param name="cancellationToken">Stops the federation (the running round is abandoned).</param>
    /// <returns>The final global parameters and the history; the caller disposes it.</returns>
    /// <exception cref="OperationCanceledException">The federation was cancelled.</exception>
    /// <exception cref="InvalidOperationException">The server is already running.</exception>
    public async Task<FederationResult> RunAsync(IProgress<RoundReport>? progress = null, CancellationToken cancellationToken = default)
    {
        if (Interlocked.Exchange(ref _running, 1) == 1)
        {
            throw new InvalidOperationException("This server is already running a federation.");
        }

        if (_buffered is not null)
        {
            try
            {
                return await RunBufferedAsync(_buffered, progress, cancellationToken).ConfigureAwait(false);
            }
            finally
            {
                Volatile.Write(ref _running, 0);
            }
        }

        long started = _timeProvider.GetTimestamp();
        var history = new History();
        ModelParameters? global = null;
        int firstRound = 1;
        int consecutiveFailed = 0;
        try
        {
            _health.Clear();
            if (_checkpoints is not null)
            {
                (FederationCheckpoint? checkpoint, IReadOnlyList<string> skipped) = await _checkpoints.LoadLatestAsync(cancellationToken).ConfigureAwait(false);
                foreach (string problem in skipped)
                {
                    Log.CheckpointSkipped(_logger, problem);
                }

                if (checkpoint is not null)
                {
                    using (checkpoint)
                    {
                        Resume(checkpoint);
                        global = checkpoint.Parameters.Clone();
                        history = checkpoint.History;
                        firstRound = checkpoint.Round + 1;
                        consecutiveFailed = checkpoint.ConsecutiveFailedRounds;
                        Log.Resumed(_logger, checkpoint.Round);
                    }
                }
            }

            global ??= _initialParameters.Clone();
            Log.FederationStarting(_logger, _options.Rounds, _aggregator.Name, global.Length, _options.Seed);
            for (int round = firstRound; round <= _options.Rounds; round++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                (RoundRecord record, ModelParameters next) = await RunRoundAsync(round, global, cancellationToken).ConfigureAwait(false);
                if (!ReferenceEquals(next, global))
                {
                    global.Dispose();
                    global = next;
                }

                history.Add(record);
                UpdateHealth(round, record);
                consecutiveFailed = record.Succeeded ? 0 : consecutiveFailed + 1;
                if (_checkpoints is not null)
                {
                    using var checkpoint = new FederationCheckpoint(round, ConfigurationHash, global.Clone(),
                        (_aggregator as IStatefulAggregator)?.ExportState(), history, new Dictionary<string, ClientHealth>(_health), consecutiveFailed);
                    await _checkpoints.SaveAsync(checkpoint, cancellationToken).ConfigureAwait(false);
                }

                await AppendAuditAsync(record, global, cancellationToken).ConfigureAwait(false);
                progress?.Report(new RoundReport(round, _options.Rounds, record));
                if (_options.MaxConsecutiveFailedRounds > 0 && consecutiveFailed >= _options.MaxConsecutiveFailedRounds)
                {
                    throw new FederationFailedException(
                        $"{consecutiveFailed} rounds in a row produced no model (last: round {round}, {record.FailureReason}); the federation stopped. Fix the cause and resume from the last checkpoint.",
                        history);
                }
            }

            Log.FederationCompleted(_logger, _options.Rounds, _timeProvider.GetElapsedTime(started).TotalSeconds, history.FailedRounds);
            return new FederationResult(global, history);
        }
        catch
        {
            global?.Dispose();
            throw;
        }
        finally
        {
            Volatile.Write(ref _running, 0);
        }
    }

    private void Resume(FederationCheckpoint checkpoint)
    {
        ulong expected = ConfigurationHash;
        if (checkpoint.ConfigurationHash != expected)
        {
            throw new CheckpointException(
                $"The newest checkpoint (round {checkpoint.Round}) was written by a different federation configuration (fingerprint {checkpoint.ConfigurationHash:x16}, this server {expected:x16}): seed, sampling, round policy, strategy or model layout changed. Use another checkpoint folder or restore the configuration.");
        }

        _initialParameters.Layout.EnsureCompatible(checkpoint.Parameters.Layout, "the checkpoint's parameters");
        if (_aggregator is IStatefulAggregator stateful && checkpoint.AggregatorState is not null)
        {
            stateful.ImportState(checkpoint.AggregatorState);
        }

        foreach ((string id, ClientHealth health) in checkpoint.ClientState)
        {
            _health[id] = health;
        }
    }

    private async Task AppendAuditAsync(RoundRecord record, ModelParameters global, CancellationToken cancellationToken)
    {
        if (_audit is null)
        {
            return;
        }

        var failedFit = new HashSet<string>(record.Failures.Where(f => f.Phase == RoundPhase.Fit).Select(f => f.ClientId), StringComparer.Ordinal);
        var entry = new Audit.AuditEntry
        {
            Round = record.Round,
            Timestamp = _timeProvider.GetUtcNow(),
            ModelSha256 = Audit.ModelHash.Sha256(global),
            Strategy = _aggregator.Name,
            ConfigurationHash = ConfigurationHash.ToString("x16", System.Globalization.CultureInfo.InvariantCulture),
            Participants = record.Succeeded ? record.FitClients.Where(id => !failedFit.Contains(id)).ToArray() : Array.Empty<string>(),
            Rejected = record.Failures.Select(f => new Audit.AuditRejection(f.ClientId, f.Phase.ToString().ToLowerInvariant(), f.Kind.ToString(), f.Reason)).ToArray(),
            StrategyParameters = record.AggregatorMetrics.ToDictionary(p => p.Key, p => p.Value.ToString(), StringComparer.Ordinal),
            EpsilonSoFar = record.AggregatorMetrics.TryGetValue("dp_epsilon", out ConfigValue epsilon) ? epsilon.AsDouble() : null,
        };
        await _audit.AppendAsync(entry, cancellationToken).ConfigureAwait(false);
    }

    private void UpdateHealth(int round, RoundRecord record)
    {
        var failed = record.Failures
            .Where(f => f.Phase == RoundPhase.Fit && f.Kind != ClientFailureKind.NotNeeded)
            .Select(f => f.ClientId)
            .ToHashSet(StringComparer.Ordinal);
        foreach (string id in record.FitClients)
        {
            _health.TryGetValue(id, out ClientHealth health);
            if (!failed.Contains(id))
            {
                _health[id] = health with { ConsecutiveFailures = 0 };
                continue;
            }

            int count = health.ConsecutiveFailures + 1;
            if (_options.QuarantineAfterFailures > 0 && count >= _options.QuarantineAfterFailures)
            {
                _health[id] = new ClientHealth(0, round + _options.QuarantineRounds);
                Log.ClientQuarantined(_logger, id, count, round + 1, round + _options.QuarantineRounds);
            }
            else
            {
                _health[id] = health with { ConsecutiveFailures = count };
            }
        }
    }

    private async Task<(RoundRecord Record, ModelParameters Global)> RunRoundAsync(int round, ModelParameters global, CancellationToken cancellationToken)
    {
        using Activity? activity = FederatedSharpTelemetry.ActivitySource.StartActivity("federatedsharp.round");
        activity?.SetTag("federatedsharp.round", round);
        long started = _timeProvider.GetTimestamp();
        var failures = new List<ClientFailure>();

        IReadOnlyList<string> connected = await WaitForClientsAsync(_options.MinAvailableClients, cancellationToken).ConfigureAwait(false);
        IReadOnlyList<string> available = connected
            .Where(id => !_health.TryGetValue(id, out ClientHealth h) || h.QuarantinedUntilRound < round)
            .ToArray();
        IReadOnlyList<string> fitClients = _aggregator is IClientSelector selector
            ? selector.SelectFitClients(round, available, _options.Seed)
            : ClientSampler.Sample(available, ClientSampler.SampleSize(available.Count, _options.FractionFit, _options.MinFitClients), _options.Seed, round, RoundPhase.Fit);
        Log.RoundStarted(_logger, round, fitClients.Count, available.Count);

        ConfigRecord fitConfig = _fitConfig?.Invoke(round)?.Copy() ?? new ConfigRecord();
        fitConfig[ConfigKeys.Round] = round;
        _aggregator.ConfigureFit(round, fitConfig);
        fitConfig.Freeze();

        var fitMetrics = new List<(long, ConfigRecord)>();
        ModelParameters next = global;
        int aggregated;
        string? failureReason = null;
        ConfigRecord aggregatorMetrics = ConfigRecord.Empty;
        if (_secure is not null)
        {
            (next, aggregated, failureReason, aggregatorMetrics) = await RunSecureFitAsync(round, global, fitClients, fitConfig, failures, cancellationToken).ConfigureAwait(false);
        }
        else
        {
            using (IRoundAggregator accumulator = _aggregator.BeginRound(global, new AggregationContext(round, fitClients.Count, connected.Count)))
            using (var roundCts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
            {
                var instructions = new FitInstructions(round, global, fitConfig);
                Task<CallOutcome<FitResult>>[] calls = fitClients
                    .Select(id => CallAsync(id, RoundPhase.Fit, round, _options.FitTimeout, (c, ct) => c.FitAsync(instructions, ct), roundCts.Token))
                    .ToArray();

                // Validates a batch of consecutive results and hands the valid ones to the aggregator together (cache-blocked
                // for linear strategies); a rejected update is recorded and never aggregated.
                void Consume(IReadOnlyList<CallOutcome<FitResult>> outcomes)
                {
                    var valid = new List<(CallOutcome<FitResult> Outcome, FitResult Result)>();
                    try
                    {
                        foreach (CallOutcome<FitResult> outcome in outcomes)
                        {
                            if (outcome.Failure is not null)
                            {
                                Record(failures, round, outcome.Failure);
                                continue;
                            }

                            try
                            {
                                _validator.Validate(outcome.ClientId, global, outcome.Result!, round);
                                valid.Add((outcome, outcome.Result!));
                            }
                            catch (InvalidUpdateException ex)
                            {
                                outcome.Result!.Dispose();
                                Record(failures, round, new ClientFailure(outcome.ClientId, RoundPhase.Fit, ClientFailureKind.Rejected, ex.Message));
                            }
                        }

                        AddToAggregator(accumulator, valid, fitMetrics, failures, round);
                    }
                    finally
                    {
                        foreach ((_, FitResult result) in valid)
                        {
                            result.Dispose();
                        }
                    }
                }

                int? enough = _options.ProceedAfterResults
                    ?? (_options.ProceedAfterFraction is { } fraction ? (int)Math.Ceiling(fraction * fitClients.Count) : null);
                var consumed = new bool[calls.Length];
                try
                {
                    if (_options.DeterministicAggregationOrder)
                    {
                        for (int i = 0; i < calls.Length && !(accumulator.Count >= enough);)
                        {
                            var batch = new List<CallOutcome<FitResult>> { await calls[i].ConfigureAwait(false) };
                            consumed[i] = true;
                            for (i++; i < calls.Length && calls[i].IsCompletedSuccessfully && !(accumulator.Count + batch.Count >= enough); i++)
                            {
                                batch.Add(calls[i].Result);
                                consumed[i] = true;
                            }

                            Consume(batch);
                        }
                    }
                    else
                    {
                        var index = calls.Select((c, i) => (c, i)).ToDictionary(p => (Task)p.c, p => p.i);
                        await foreach (Task<CallOutcome<FitResult>> call in Task.WhenEach(calls).WithCancellation(cancellationToken).ConfigureAwait(false))
                        {
                            consumed[index[call]] = true;
                            Consume(new[] { await call.ConfigureAwait(false) });
                            if (accumulator.Count >= enough)
                            {
                                break;
                            }
                        }
                    }

                    if (consumed.Contains(false))
                    {
                        // Enough updates are in: the others are cancelled, not blamed.
                        await roundCts.CancelAsync().ConfigureAwait(false);
                        for (int i = 0; i < calls.Length; i++)
                        {
                            if (!consumed[i])
                            {
                                CallOutcome<FitResult> late = await calls[i].ConfigureAwait(false);
                                late.Result?.Dispose();
                                failures.Add(new ClientFailure(late.ClientId, RoundPhase.Fit, ClientFailureKind.NotNeeded, $"the round closed after {accumulator.Count} updates."));
                            }
                        }
                    }
                }
                finally
                {
                    await roundCts.CancelAsync().ConfigureAwait(false);
                    DisposeUnconsumed(calls);
                }

                cancellationToken.ThrowIfCancellationRequested();
                aggregated = accumulator.Count;
                if (aggregated >= _options.MinFitClients)
                {
                    try
                    {
                        next = accumulator.Complete();
                        aggregatorMetrics = (accumulator as IReportingRoundAggregator)?.GetRoundMetrics() ?? ConfigRecord.Empty;
                    }
                    catch (Exception ex) when (ex is InvalidOperationException or ArgumentException)
                    {
                        // For example Krum or Bulyan with too few updates for their f: the round fails, the federation goes on.
                        failureReason = $"{_aggregator.Name} could not aggregate {aggregated} updates: {ex.Message}";
                        Log.AggregationFailed(_logger, round, failureReason);
                    }
                }
                else
                {
                    failureReason = $"only {aggregated} valid updates, {_options.MinFitClients} needed";
                    Log.RoundFailed(_logger, round, aggregated, _options.MinFitClients);
                }
            }
        }

        bool succeeded = !ReferenceEquals(next, global);
        IReadOnlyList<string> evaluateClients;
        double? loss;
        ConfigRecord distributed;
        try
        {
            (evaluateClients, loss, distributed) = await EvaluateDistributedAsync(round, next, failures, cancellationToken).ConfigureAwait(false);
            cancellationToken.ThrowIfCancellationRequested();
        }
        catch when (succeeded)
        {
            next.Dispose();
            throw;
        }

        double? centralizedLoss = null;
        ConfigRecord centralized = ConfigRecord.Empty;
        string? centralizedError = null;
        if (_centralizedEvaluator is not null)
        {
            try
            {
                EvaluateResult result = await _centralizedEvaluator(round, next, cancellationToken).ConfigureAwait(false);
                centralizedLoss = result.Loss;
                centralized = result.Metrics;
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                if (succeeded)
                {
                    next.Dispose();
                }

                throw;
            }
            catch (Exception ex)
            {
                // An evaluation problem never costs the round its training.
                centralizedError = $"{ex.GetType().Name}: {ex.Message}";
                Log.CentralizedEvaluationFailed(_logger, round, centralizedError);
            }
        }

        TimeSpan duration = _timeProvider.GetElapsedTime(started);
        FederatedSharpTelemetry.Rounds.Add(1, new KeyValuePair<string, object?>("outcome", succeeded ? "succeeded" : "failed"));
        FederatedSharpTelemetry.RoundDuration.Record(duration.TotalSeconds);
        Log.RoundCompleted(_logger, round, duration.TotalSeconds, aggregated, fitClients.Count, loss?.ToString("G6", System.Globalization.CultureInfo.InvariantCulture) ?? "n/a");
        var record = new RoundRecord
        {
            Round = round,
            Succeeded = succeeded,
            FailureReason = failureReason,
            FitClients = fitClients,
            AggregatedUpdates = succeeded ? aggregated : 0,
            FitMetrics = MetricsAggregation.WeightedAverage(fitMetrics),
            AggregatorMetrics = aggregatorMetrics,
            EvaluateClients = evaluateClients,
            DistributedLoss = loss,
            DistributedMetrics = distributed,
            CentralizedLoss = centralizedLoss,
            CentralizedMetrics = centralized,
            CentralizedEvaluationError = centralizedError,
            Failures = failures,
            Duration = duration,
        };
        return (record, next);
    }

    private async Task<(ModelParameters Next, int Aggregated, string? FailureReason, ConfigRecord Metrics)> RunSecureFitAsync(
        int round, ModelParameters global, IReadOnlyList<string> fitClients, ConfigRecord fitConfig, List<ClientFailure> failures, CancellationToken cancellationToken)
    {
        try
        {
            using SecureAggregationResult result = await _secure!.RunRoundAsync(_transport, fitClients, round, global, fitConfig, cancellationToken).ConfigureAwait(false);
            foreach (string id in result.Dropped)
            {
                Record(failures, round, new ClientFailure(id, RoundPhase.Fit, ClientFailureKind.Exception, "dropped out of secure aggregation"));
            }

            var metrics = new ConfigRecord
            {
                ["secagg_total_examples"] = result.TotalExamples,
                ["secagg_dropped"] = (long)result.Dropped.Count,
            }.Freeze();
            if (result.Contributors.Count < _options.MinFitClients)
            {
                Log.RoundFailed(_logger, round, result.Contributors.Count, _options.MinFitClients);
                return (global, result.Contributors.Count, $"only {result.Contributors.Count} clients in the secure sum, {_options.MinFitClients} needed", metrics);
            }

            return (result.Parameters.Clone(), result.Contributors.Count, null, metrics);
        }
        catch (SecureAggregationException ex)
        {
            Log.AggregationFailed(_logger, round, ex.Message);
            return (global, 0, ex.Message, ConfigRecord.Empty);
        }
    }

    private void AddToAggregator(
        IRoundAggregator accumulator, List<(CallOutcome<FitResult> Outcome, FitResult Result)> valid, List<(long, ConfigRecord)> fitMetrics, List<ClientFailure> failures, int round)
    {
        if (valid.Count == 0)
        {
            return;
        }

        ClientUpdate Update(int i) => new(valid[i].Outcome.ClientId, valid[i].Result.Parameters, valid[i].Result.ExampleCount, valid[i].Result.Metrics);
        int before = accumulator.Count;
        int start = 0;
        try
        {
            accumulator.AddRange(Enumerable.Range(0, valid.Count).Select(Update).ToArray());
            start = valid.Count;
        }
        catch (Exception ex) when (ex is LayoutMismatchException or ArgumentException)
        {
            // AddRange adds all or, like the default implementation, a prefix; the update after that prefix is the bad one.
            int added = accumulator.Count - before;
            Record(failures, round, new ClientFailure(valid[added].Outcome.ClientId, RoundPhase.Fit, ClientFailureKind.Rejected, ex.Message));
            for (int i = 0; i < added; i++)
            {
                fitMetrics.Add((valid[i].Result.ExampleCount, valid[i].Result.Metrics));
            }

            for (int i = added + 1; i < valid.Count; i++)
            {
                try
                {
                    accumulator.Add(Update(i));
                    fitMetrics.Add((valid[i].Result.ExampleCount, valid[i].Result.Metrics));
                }
                catch (Exception inner) when (inner is LayoutMismatchException or ArgumentException)
                {
                    Record(failures, round, new ClientFailure(valid[i].Outcome.ClientId, RoundPhase.Fit, ClientFailureKind.Rejected, inner.Message));
                }
            }

            return;
        }

        for (int i = 0; i < start; i++)
        {
            fitMetrics.Add((valid[i].Result.ExampleCount, valid[i].Result.Metrics));
        }
    }

    private async Task<(IReadOnlyList<string> Clients, double? Loss, ConfigRecord Metrics)> EvaluateDistributedAsync(
        int round, ModelParameters global, List<ClientFailure> failures, CancellationToken cancellationToken)
    {
        if (_options.FractionEvaluate <= 0)
        {
            return (Array.Empty<string>(), null, ConfigRecord.Empty);
        }

        IReadOnlyList<string> available = _transport.GetAvailableClients();
        int count = ClientSampler.SampleSize(available.Count, _options.FractionEvaluate, _options.MinEvaluateClients);
        IReadOnlyList<string> clients = ClientSampler.Sample(available, count, _options.Seed, round, RoundPhase.Evaluate);
        ConfigRecord config = _evaluateConfig?.Invoke(round)?.Copy() ?? new ConfigRecord();
        config[ConfigKeys.Round] = round;
        config.Freeze();
        var instructions = new EvaluateInstructions(round, global, config);
        CallOutcome<EvaluateResult>[] outcomes;
        using (var evaluateCts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
        {
            outcomes = await Task.WhenAll(clients.Select(id =>
                CallAsync(id, RoundPhase.Evaluate, round, _options.EvaluateTimeout, (c, ct) => c.EvaluateAsync(instructions, ct), evaluateCts.Token))).ConfigureAwait(false);
            await evaluateCts.CancelAsync().ConfigureAwait(false);
        }

        var answered = new List<(long, ConfigRecord)>();
        double lossSum = 0;
        long examples = 0;
        foreach (CallOutcome<EvaluateResult> outcome in outcomes)
        {
            if (outcome.Failure is not null)
            {
                Record(failures, round, outcome.Failure);
                continue;
            }

            EvaluateResult result = outcome.Result!;
            if (result.ExampleCount <= 0 || !double.IsFinite(result.Loss))
            {
                Record(failures, round, new ClientFailure(outcome.ClientId, RoundPhase.Evaluate, ClientFailureKind.Rejected,
                    $"evaluation with {result.ExampleCount} examples and loss {result.Loss} was rejected."));
                continue;
            }

            lossSum += result.ExampleCount * result.Loss;
            examples += result.ExampleCount;
            answered.Add((result.ExampleCount, result.Metrics));
        }

        if (answered.Count == 0 || answered.Count < _options.MinEvaluateClients)
        {
            return (clients, null, ConfigRecord.Empty);
        }

        return (clients, lossSum / examples, MetricsAggregation.WeightedAverage(answered));
    }

    private async Task<IReadOnlyList<string>> WaitForClientsAsync(int minimum, CancellationToken cancellationToken)
    {
        IReadOnlyList<string> available = _transport.GetAvailableClients();
        if (available.Count < minimum)
        {
            Log.WaitingForClients(_logger, minimum, available.Count);
            await _transport.WaitForClientsAsync(minimum, cancellationToken).ConfigureAwait(false);
            available = _transport.GetAvailableClients();
        }

        return available;
    }

    private async Task<CallOutcome<T>> CallAsync<T>(
        string clientId, RoundPhase phase, int round, TimeSpan timeout, Func<IClientConnection, CancellationToken, Task<T>> call, CancellationToken roundToken)
    {
        using var deadline = new CancellationTokenSource(timeout, _timeProvider);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(roundToken, deadline.Token);
        Task<T>? pending = null;
        try
        {
            IClientConnection connection = _transport.GetConnection(clientId);
            pending = call(connection, linked.Token);
            T result = await pending.WaitAsync(timeout, _timeProvider, roundToken).ConfigureAwait(false);
            return new CallOutcome<T>(clientId, result, null);
        }
        catch (UnknownClientException ex)
        {
            return new CallOutcome<T>(clientId, default, new ClientFailure(clientId, phase, ClientFailureKind.UnknownClient, ex.Message));
        }
        catch (Exception ex) when (ex is TimeoutException || (ex is OperationCanceledException && deadline.IsCancellationRequested && !roundToken.IsCancellationRequested))
        {
            DisposeWhenDone(pending, clientId, phase, round);
            return new CallOutcome<T>(clientId, default, new ClientFailure(clientId, phase, ClientFailureKind.Timeout, $"no answer within {timeout}."));
        }
        catch (OperationCanceledException) when (roundToken.IsCancellationRequested)
        {
            DisposeWhenDone(pending, clientId, phase, round);
            return new CallOutcome<T>(clientId, default, new ClientFailure(clientId, phase, ClientFailureKind.Timeout, "the round closed before the client answered."));
        }
        catch (Exception ex)
        {
            string message = ex is ClientFailedException ? ex.Message : $"{ex.GetType().Name}: {ex.Message}";
            return new CallOutcome<T>(clientId, default, new ClientFailure(clientId, phase, ClientFailureKind.Exception, message));
        }
    }

    private void DisposeWhenDone<T>(Task<T>? pending, string clientId, RoundPhase phase, int round)
    {
        pending?.ContinueWith(
            t =>
            {
                if (t.IsCompletedSuccessfully)
                {
                    Log.LateResultDiscarded(_logger, round, phase.ToString(), clientId);
                    (t.Result as IDisposable)?.Dispose();
                }
            },
            CancellationToken.None,
            TaskContinuationOptions.ExecuteSynchronously,
            TaskScheduler.Default);
    }

    private static void DisposeUnconsumed(Task<CallOutcome<FitResult>>[] calls)
    {
        foreach (Task<CallOutcome<FitResult>> call in calls)
        {
            call.ContinueWith(
                t =>
                {
                    if (t.IsCompletedSuccessfully)
                    {
                        t.Result.Result?.Dispose();
                    }
                },
                CancellationToken.None,
                TaskContinuationOptions.ExecuteSynchronously,
                TaskScheduler.Default);
        }
    }

    private void Record(List<ClientFailure> failures, int round, ClientFailure failure)
    {
        failures.Add(failure);
        FederatedSharpTelemetry.ClientFailures.Add(1, new KeyValuePair<string, object?>("kind", failure.Kind.ToString()));
        Log.ClientFailed(_logger, round, failure.Phase.ToString(), failure.ClientId, failure.Kind.ToString(), failure.Reason);
    }

    private sealed record CallOutcome<T>(string ClientId, T? Result, ClientFailure? Failure);
}
