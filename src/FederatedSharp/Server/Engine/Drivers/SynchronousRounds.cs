using FederatedSharp.Aggregation;
using FederatedSharp.Clients;
using FederatedSharp.Diagnostics;
using FederatedSharp.Parameters;

namespace FederatedSharp.Server.Engine.Drivers;

/// <summary>
/// Synchronous rounds (FedAvg's schedule): sample clients, send every one the same global model and configuration,
/// take their updates through the update pipeline as they arrive (in sampling order when
/// <see cref="FederatedServerOptions.DeterministicAggregationOrder"/>), close the round when all are in, the deadline
/// passed or <see cref="FederatedServerOptions.ProceedAfterResults"/> arrived, and aggregate.
/// </summary>
internal sealed class SynchronousRounds : RoundDriver
{
    public override async Task<FitPhase> RunFitAsync(FederationContext context, int round, CancellationToken cancellationToken)
    {
        EngineServices services = context.Services;
        (IReadOnlyList<string> fitClients, int connected) = await SelectAsync(context, round, cancellationToken).ConfigureAwait(false);
        ConfigRecord fitConfig = services.CreateFitConfig(round);
        var failures = new List<ClientFailure>();
        var results = new List<ClientFitMetrics>();
        ModelParameters global = context.Global;
        using var pipeline = new UpdatePipeline(services.Stages, services.Aggregator, global, new AggregationContext(round, fitClients.Count, connected), services.TimeProvider,
            (id, reason) => services.Caller.Record(failures, round, new ClientFailure(id, RoundPhase.Fit, ClientFailureKind.Rejected, reason)));
        using (var roundCts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
        {
            var instructions = new FitInstructions(round, global, fitConfig);
            Task<ClientOutcome<FitResult>>[] calls = fitClients
                .Select(id => services.Caller.CallAsync(id, RoundPhase.Fit, round, services.Options.FitTimeout, (c, ct) => services.FitAsync(c, id, instructions, ct), roundCts.Token))
                .ToArray();
            try
            {
                await new FitIntake(services, pipeline, round, failures, results).ConsumeAsync(calls, fitClients.Count, roundCts, cancellationToken).ConfigureAwait(false);
            }
            finally
            {
                await roundCts.CancelAsync().ConfigureAwait(false);
                ClientCaller.DisposeWhenCompleted(calls);
            }
        }

        cancellationToken.ThrowIfCancellationRequested();
        return Complete(services, round, pipeline, fitClients, failures, results);
    }

    /// <summary>The select phase shared by the synchronous and secure drivers.</summary>
    internal static async Task<(IReadOnlyList<string> Clients, int Connected)> SelectAsync(FederationContext context, int round, CancellationToken cancellationToken)
    {
        EngineServices services = context.Services;
        FederatedServerOptions options = services.Options;
        IReadOnlyList<string> connected = await services.WaitForClientsAsync(options.MinAvailableClients, cancellationToken).ConfigureAwait(false);
        IReadOnlyList<string> available = services.FilterClients(context, round, connected);
        IReadOnlyList<string> fitClients = services.Selector is { } selector
            ? selector.SelectFitClients(round, available, options.Seed)
            : ClientSampler.Sample(available, ClientSampler.SampleSize(available.Count, options.FractionFit, options.MinFitClients), options.Seed, round, RoundPhase.Fit);
        Log.RoundStarted(services.Logger, round, fitClients.Count, available.Count);
        return (fitClients, connected.Count);
    }

    /// <summary>The aggregate phase: the new model when at least <see cref="FederatedServerOptions.MinFitClients"/> updates were accepted.</summary>
    internal static FitPhase Complete(
        EngineServices services, int round, UpdatePipeline pipeline, IReadOnlyList<string> fitClients, List<ClientFailure> failures, List<ClientFitMetrics> results)
    {
        int aggregated = pipeline.Accepted;
        results.RemoveAll(r => pipeline.WasRejected(r.ClientId));
        if (aggregated < services.Options.MinFitClients)
        {
            Log.RoundFailed(services.Logger, round, aggregated, services.Options.MinFitClients);
            return new FitPhase
            {
                FailureReason = $"only {aggregated} valid updates, {services.Options.MinFitClients} needed",
                FitClients = fitClients, Aggregated = aggregated, Results = results, Failures = failures,
            };
        }

        try
        {
            ModelParameters next = pipeline.Complete();
            return new FitPhase { Next = next, FitClients = fitClients, Aggregated = aggregated, Results = results, Failures = failures, AggregatorMetrics = pipeline.Metrics };
        }
        catch (Exception ex) when (ex is InvalidOperationException or ArgumentException)
        {
            // For example Krum or Bulyan with too few updates for their f: the round fails, the federation goes on.
            string reason = $"{services.Aggregator.Name} could not aggregate {aggregated} updates: {ex.Message}";
            Log.AggregationFailed(services.Logger, round, reason);
            return new FitPhase { FailureReason = reason, FitClients = fitClients, Aggregated = aggregated, Results = results, Failures = failures };
        }
    }
}
