using System.Globalization;
using FederatedSharp.Clients;
using FederatedSharp.Diagnostics;
using FederatedSharp.Parameters;

namespace FederatedSharp.Server.Engine;

/// <summary>
/// The one round loop. Every round: the driver produces the model (select, configure, call, intake, aggregate), then
/// the engine evaluates it, records the round, runs every feature's hook and applies the failure policy. Synchronous
/// rounds, FedBuff and secure aggregation differ only in their driver.
/// </summary>
internal sealed class RoundEngine
{
    private readonly EngineServices _services;

    public RoundEngine(EngineServices services) => _services = services;

    public async Task<FederationResult> RunAsync(IProgress<RoundReport>? progress, CancellationToken cancellationToken)
    {
        long started = _services.TimeProvider.GetTimestamp();
        var context = new FederationContext(_services, _services.InitialParameters.Clone());
        try
        {
            foreach (FederationFeature feature in _services.Features)
            {
                await feature.OnStartingAsync(context, cancellationToken).ConfigureAwait(false);
            }

            FederatedServerOptions options = _services.Options;
            Log.FederationStarting(_services.Logger, options.Rounds, _services.Driver.Describe(_services.Aggregator), context.Global.Length, options.Seed);
            for (int round = context.CompletedRounds + 1; round <= options.Rounds; round++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                RoundRecord record = await RunAndRecordRoundAsync(context, round, cancellationToken).ConfigureAwait(false);
                progress?.Report(new RoundReport(round, options.Rounds, record));
                if (options.MaxConsecutiveFailedRounds > 0 && context.ConsecutiveFailedRounds >= options.MaxConsecutiveFailedRounds)
                {
                    throw new FederationFailedException(
                        $"{context.ConsecutiveFailedRounds} rounds in a row produced no model (last: round {round}, {record.FailureReason}); the federation stopped. Fix the cause and resume from the last checkpoint.",
                        context.History);
                }
            }

            ThrowIfMostlyFailed(context.History);
            Log.FederationCompleted(_services.Logger, options.Rounds, _services.TimeProvider.GetElapsedTime(started).TotalSeconds, context.History.FailedRounds);
            return new FederationResult(context.Global, context.History);
        }
        catch
        {
            context.Global.Dispose();
            throw;
        }
        finally
        {
            await _services.Driver.DisposeAsync().ConfigureAwait(false);
        }
    }

    // One round inside every feature's round scope (telemetry's span): run, record, then the features' hooks.
    private async Task<RoundRecord> RunAndRecordRoundAsync(FederationContext context, int round, CancellationToken cancellationToken)
    {
        var scopes = new List<IDisposable>();
        try
        {
            foreach (FederationFeature feature in _services.Features)
            {
                if (feature.OnRoundStarting(context, round) is { } scope)
                {
                    scopes.Add(scope);
                }
            }

            RoundRecord record = await RunRoundAsync(context, round, cancellationToken).ConfigureAwait(false);
            context.History.Add(record);
            context.CompletedRounds = round;
            context.ConsecutiveFailedRounds = record.Succeeded ? 0 : context.ConsecutiveFailedRounds + 1;
            foreach (FederationFeature feature in _services.Features)
            {
                await feature.OnRoundCompletedAsync(context, record, cancellationToken).ConfigureAwait(false);
            }

            return record;
        }
        finally
        {
            for (int i = scopes.Count - 1; i >= 0; i--)
            {
                scopes[i].Dispose();
            }
        }
    }

    private void ThrowIfMostlyFailed(History history)
    {
        double limit = _services.Options.MaxFailedRoundFraction;
        int failed = history.FailedRounds;
        if (history.Rounds.Count > 0 && failed > limit * history.Rounds.Count)
        {
            string reasons = string.Join("; ", history.Rounds.Where(r => !r.Succeeded).Select(r => r.FailureReason).Distinct().Take(3));
            throw new FederationFailedException(
                $"{failed} of {history.Rounds.Count} rounds produced no model (more than MaxFailedRoundFraction = {limit.ToString("G3", CultureInfo.InvariantCulture)}); the final model would not be the result of this federation. Reasons: {reasons}. The client failures of each round are in the exception's History.",
                history);
        }
    }

    private async Task<RoundRecord> RunRoundAsync(FederationContext context, int round, CancellationToken cancellationToken)
    {
        long started = _services.TimeProvider.GetTimestamp();
        FitPhase fit = await _services.Driver.RunFitAsync(context, round, cancellationToken).ConfigureAwait(false);
        ModelParameters model = fit.Next ?? context.Global;
        Evaluation evaluation;
        try
        {
            evaluation = await EvaluationPhase.RunAsync(context, round, model, fit.Failures, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            fit.Next?.Dispose();
            throw;
        }

        if (fit.Next is not null)
        {
            ModelParameters previous = context.Global;
            context.Global = fit.Next;
            previous.Dispose();
        }

        bool succeeded = fit.Next is not null;
        TimeSpan duration = _services.TimeProvider.GetElapsedTime(started);
        Log.RoundCompleted(_services.Logger, round, duration.TotalSeconds, fit.Aggregated, fit.FitClients.Count,
            evaluation.Loss?.ToString("G6", CultureInfo.InvariantCulture) ?? "n/a");
        return new RoundRecord
        {
            Round = round,
            Succeeded = succeeded,
            FailureReason = fit.FailureReason,
            FitClients = fit.FitClients,
            AggregatedUpdates = succeeded ? fit.Aggregated : 0,
            FitMetrics = _services.Metrics.AggregateFit(fit.Results),
            FitResults = fit.Results.Select(r => r with { Metrics = WithoutBytes(r.Metrics) }).ToArray(),
            AggregatorMetrics = fit.AggregatorMetrics,
            EvaluateClients = evaluation.Clients,
            DistributedLoss = evaluation.Loss,
            DistributedMetrics = evaluation.Metrics,
            EvaluateResults = evaluation.Results,
            CentralizedLoss = evaluation.CentralizedLoss,
            CentralizedMetrics = evaluation.CentralizedMetrics,
            CentralizedEvaluationError = evaluation.CentralizedError,
            Failures = fit.Failures,
            Duration = duration,
        };
    }

    private static ConfigRecord WithoutBytes(ConfigRecord metrics) =>
        metrics.Values.Any(v => v.Kind == ConfigValueKind.Bytes)
            ? new ConfigRecord(metrics.Where(p => p.Value.Kind != ConfigValueKind.Bytes)).Freeze()
            : metrics;
}
