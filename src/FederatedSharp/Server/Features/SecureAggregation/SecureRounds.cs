using System.Collections.Concurrent;
using FederatedSharp.Aggregation;
using FederatedSharp.Clients;
using FederatedSharp.Diagnostics;
using FederatedSharp.Parameters;
using FederatedSharp.Privacy.SecureAggregation;
using FederatedSharp.Server.Engine;
using FederatedSharp.Server.Engine.Drivers;

namespace FederatedSharp.Server.Features.SecureAggregation;

/// <summary>
/// Secure rounds on the round engine: the round's clients are selected as usual, the four phases of secure
/// aggregation run through the engine's client-call path (deadline <see cref="SecureAggregationOptions.PhaseTimeout"/>
/// on the server's clock, failures recorded with their reason), and the unmasked mean becomes one update for the
/// strategy, so FedAvgM, FedAdam and the other linear strategies apply their server step to it.
/// </summary>
internal sealed class SecureRounds(SecureAggregationOptions options) : RoundDriver
{
    public override string Describe(IAggregator aggregator) => "SecAgg+" + aggregator.Name;

    public override async Task<FitPhase> RunFitAsync(FederationContext context, int round, CancellationToken cancellationToken)
    {
        EngineServices services = context.Services;
        (IReadOnlyList<string> fitClients, int connected) = await SynchronousRounds.SelectAsync(context, round, cancellationToken).ConfigureAwait(false);
        ConfigRecord fitConfig = services.CreateFitConfig(round);
        var failures = new List<ClientFailure>();
        var reasons = new ConcurrentDictionary<string, ClientFailure>(StringComparer.Ordinal);
        var server = new SecureAggregationServer(options, services.TimeProvider);
        async Task<ConfigRecord?> Call(string id, FitInstructions instructions, CancellationToken ct)
        {
            ClientOutcome<FitResult> outcome = await services.Caller.CallAsync(id, RoundPhase.Fit, round, options.PhaseTimeout, (c, t) => services.FitAsync(c, id, instructions, t), ct).ConfigureAwait(false);
            if (outcome.Failure is not null)
            {
                reasons.TryAdd(id, outcome.Failure);
                return null;
            }

            using (outcome.Result)
            {
                return outcome.Result!.Metrics;
            }
        }

        try
        {
            using SecureAggregationResult result = await server.RunRoundAsync(Call, fitClients, round, context.Global, fitConfig, cancellationToken).ConfigureAwait(false);
            foreach (string id in result.Dropped.Distinct())
            {
                services.Caller.Record(failures, round, reasons.TryGetValue(id, out ClientFailure? failure)
                    ? failure with { Reason = "dropped out of secure aggregation: " + failure.Reason }
                    : new ClientFailure(id, RoundPhase.Fit, ClientFailureKind.Exception, "dropped out of secure aggregation (its reply was missing or malformed)"));
            }

            var metrics = new ConfigRecord { ["secagg_total_examples"] = result.TotalExamples, ["secagg_dropped"] = (long)result.Dropped.Count };
            int aggregated = result.Contributors.Count;
            if (aggregated < services.Options.MinFitClients)
            {
                Log.RoundFailed(services.Logger, round, aggregated, services.Options.MinFitClients);
                return new FitPhase
                {
                    FailureReason = $"only {aggregated} clients in the secure sum, {services.Options.MinFitClients} needed",
                    FitClients = fitClients, Aggregated = aggregated, Results = Array.Empty<ClientFitMetrics>(), Failures = failures, AggregatorMetrics = metrics.Freeze(),
                };
            }

            // The strategy sees the mean (one update of weight 1) and runs its server step on it.
            using IRoundAggregator strategy = services.Aggregator.BeginRound(context.Global, new AggregationContext(round, fitClients.Count, connected));
            strategy.Add(new ClientUpdate("secure-aggregate", result.Parameters, 1, ConfigRecord.Empty));
            ModelParameters next = strategy.Complete();
            foreach ((string key, ConfigValue value) in (strategy as IReportingRoundAggregator)?.GetRoundMetrics() ?? ConfigRecord.Empty)
            {
                metrics[key] = value;
            }

            return new FitPhase { Next = next, FitClients = fitClients, Aggregated = aggregated, Results = Array.Empty<ClientFitMetrics>(), Failures = failures, AggregatorMetrics = metrics.Freeze() };
        }
        catch (SecureAggregationException ex)
        {
            foreach (ClientFailure failure in reasons.Values.OrderBy(f => f.ClientId, StringComparer.Ordinal))
            {
                services.Caller.Record(failures, round, failure with { Reason = "dropped out of secure aggregation: " + failure.Reason });
            }

            Log.AggregationFailed(services.Logger, round, ex.Message);
            return new FitPhase { FailureReason = ex.Message, FitClients = fitClients, Aggregated = 0, Results = Array.Empty<ClientFitMetrics>(), Failures = failures };
        }
    }
}
