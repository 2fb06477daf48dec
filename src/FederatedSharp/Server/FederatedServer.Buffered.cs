using FederatedSharp.Aggregation.Kernels;
using FederatedSharp.Clients;
using FederatedSharp.Diagnostics;
using FederatedSharp.Parameters;
using FederatedSharp.Privacy;
using FederatedSharp.Simulation;

namespace FederatedSharp.Server;

/// <summary>Buffered asynchronous aggregation (FedBuff); see <see cref="BufferedAsyncOptions"/>.</summary>
public sealed partial class FederatedServer
{
    private async Task<FederationResult> RunBufferedAsync(BufferedAsyncOptions buffered, IProgress<RoundReport>? progress, CancellationToken cancellationToken)
    {
        var history = new History();
        var snapshots = new Dictionary<int, (ModelParameters Parameters, int Users)>();
        // In start order: when several calls have finished, the earliest started is taken first.
        var inFlight = new List<(Task<CallOutcome<FitResult>> Call, string ClientId, int Version)>();
        ModelParameters global = _initialParameters.Clone();
        float[] buffer = new float[global.Length];
        float[] delta = new float[global.Length];
        var contributors = new List<string>();
        var failures = new List<ClientFailure>();
        var metrics = new List<(long, ConfigRecord)>();
        double bufferWeight = 0;
        int version = 0;
        long roundStarted = _timeProvider.GetTimestamp();
        var random = new DeterministicRandom(DeterministicRandom.Mix(_options.Seed, 0xFEDB0FF));
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        try
        {
            Log.FederationStarting(_logger, _options.Rounds, "FedBuff+" + _aggregator.Name, global.Length, _options.Seed);
            while (version < _options.Rounds)
            {
                IReadOnlyList<string> available = await WaitForClientsAsync(_options.MinAvailableClients, cancellationToken).ConfigureAwait(false);
                var busy = inFlight.Select(v => v.ClientId).ToHashSet(StringComparer.Ordinal);
                List<string> idle = available.Where(id => !busy.Contains(id)).ToList();
                while (inFlight.Count < buffered.Concurrency && idle.Count > 0)
                {
                    string id = idle[random.Next(idle.Count)];
                    idle.Remove(id);
                    if (!snapshots.TryGetValue(version, out (ModelParameters Parameters, int Users) snapshot))
                    {
                        snapshot = (global.Clone(), 0);
                    }

                    snapshots[version] = (snapshot.Parameters, snapshot.Users + 1);
                    ConfigRecord config = _fitConfig?.Invoke(version + 1)?.Copy() ?? new ConfigRecord();
                    config[ConfigKeys.Round] = version + 1;
                    _aggregator.ConfigureFit(version + 1, config);
                    var instructions = new FitInstructions(version + 1, snapshot.Parameters, config.Freeze());
                    inFlight.Add((CallAsync(id, RoundPhase.Fit, version + 1, _options.FitTimeout, (c, ct) => c.FitAsync(instructions, ct), stop.Token), id, version));
                }

                if (inFlight.Count == 0)
                {
                    throw new FederationFailedException("No client can train: every available client is busy or none is connected.", history);
                }

                await Task.WhenAny(inFlight.Select(f => f.Call)).ConfigureAwait(false);
                int finished = inFlight.FindIndex(f => f.Call.IsCompleted);
                (Task<CallOutcome<FitResult>> done, string clientId, int startVersion) = inFlight[finished];
                inFlight.RemoveAt(finished);
                CallOutcome<FitResult> outcome = await done.ConfigureAwait(false);
                ModelParameters start = snapshots[startVersion].Parameters;
                using (outcome.Result)
                {
                    int staleness = version - startVersion;
                    if (outcome.Failure is not null)
                    {
                        Record(failures, version + 1, outcome.Failure);
                    }
                    else if (staleness > buffered.MaxStaleness)
                    {
                        Record(failures, version + 1, new ClientFailure(clientId, RoundPhase.Fit, ClientFailureKind.Rejected, $"update {staleness} server updates stale (limit {buffered.MaxStaleness})."));
                    }
                    else
                    {
                        try
                        {
                            _validator.Validate(clientId, start, outcome.Result!, version + 1);
                            double examples = buffered.WeightByExamples ? outcome.Result!.ExampleCount : 1;
                            float weight = (float)(examples * BufferedAsyncOptions.StalenessWeight(staleness));
                            System.Numerics.Tensors.TensorPrimitives.Subtract(outcome.Result!.Parameters.Values, start.Values, delta);
                            AggregationKernels.MultiplyAdd(delta, weight, buffer);
                            bufferWeight += examples;
                            contributors.Add(clientId);
                            metrics.Add((outcome.Result.ExampleCount, outcome.Result.Metrics));
                        }
                        catch (InvalidUpdateException ex)
                        {
                            Record(failures, version + 1, new ClientFailure(clientId, RoundPhase.Fit, ClientFailureKind.Rejected, ex.Message));
                        }
                    }
                }

                ReleaseSnapshot(snapshots, startVersion, version);
                if (contributors.Count < buffered.BufferSize)
                {
                    continue;
                }

                // Server update: w = w + eta * sum(n_i s_i d_i) / sum(n_i).
                AggregationKernels.MultiplyAdd(buffer, (float)(buffered.ServerLearningRate / bufferWeight), global.Memory);
                Array.Clear(buffer);
                bufferWeight = 0;
                version++;
                double? centralizedLoss = null;
                ConfigRecord centralized = ConfigRecord.Empty;
                if (_centralizedEvaluator is not null)
                {
                    EvaluateResult result = await _centralizedEvaluator(version, global, cancellationToken).ConfigureAwait(false);
                    centralizedLoss = result.Loss;
                    centralized = result.Metrics;
                }

                var record = new RoundRecord
                {
                    Round = version,
                    Succeeded = true,
                    FitClients = contributors.ToArray(),
                    AggregatedUpdates = contributors.Count,
                    FitMetrics = Aggregation.MetricsAggregation.WeightedAverage(metrics),
                    EvaluateClients = Array.Empty<string>(),
                    DistributedMetrics = ConfigRecord.Empty,
                    CentralizedLoss = centralizedLoss,
                    CentralizedMetrics = centralized,
                    Failures = failures.ToArray(),
                    Duration = _timeProvider.GetElapsedTime(roundStarted),
                };
                history.Add(record);
                await AppendAuditAsync(record, global, cancellationToken).ConfigureAwait(false);
                progress?.Report(new RoundReport(version, _options.Rounds, record));
                contributors.Clear();
                failures.Clear();
                metrics.Clear();
                roundStarted = _timeProvider.GetTimestamp();
            }

            return new FederationResult(global, history);
        }
        catch
        {
            global.Dispose();
            throw;
        }
        finally
        {
            await stop.CancelAsync().ConfigureAwait(false);
            foreach ((Task<CallOutcome<FitResult>> pending, _, _) in inFlight)
            {
                CallOutcome<FitResult> late = await pending.ConfigureAwait(false);
                late.Result?.Dispose();
            }

            foreach ((ModelParameters parameters, _) in snapshots.Values)
            {
                parameters.Dispose();
            }
        }
    }

    private static void ReleaseSnapshot(Dictionary<int, (ModelParameters Parameters, int Users)> snapshots, int startVersion, int currentVersion)
    {
        (ModelParameters parameters, int users) = snapshots[startVersion];
        if (users > 1 || startVersion == currentVersion)
        {
            snapshots[startVersion] = (parameters, users - 1);
            return;
        }

        snapshots.Remove(startVersion);
        parameters.Dispose();
    }
}
