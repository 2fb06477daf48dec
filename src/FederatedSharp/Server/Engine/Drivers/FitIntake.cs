using FederatedSharp.Aggregation;
using FederatedSharp.Clients;

namespace FederatedSharp.Server.Engine.Drivers;

/// <summary>
/// The intake of a synchronous round: consumes the fit calls' outcomes (in sampling order, batching consecutive
/// results that are already in so linear strategies aggregate them cache-blocked; or as they complete), records
/// failures, feeds the update pipeline, and closes the round once enough updates are in.
/// </summary>
internal sealed class FitIntake(EngineServices services, UpdatePipeline pipeline, int round, List<ClientFailure> failures, List<ClientFitMetrics> results)
{
    public async Task ConsumeAsync(Task<ClientOutcome<FitResult>>[] calls, int sampled, CancellationTokenSource roundCts, CancellationToken cancellationToken)
    {
        FederatedServerOptions options = services.Options;
        int? enough = options.ProceedAfterResults ?? (options.ProceedAfterFraction is { } fraction ? (int)Math.Ceiling(fraction * sampled) : null);
        var consumed = new bool[calls.Length];
        if (options.DeterministicAggregationOrder)
        {
            for (int i = 0; i < calls.Length && !(pipeline.Accepted >= enough);)
            {
                var batch = new List<ClientOutcome<FitResult>> { await calls[i].ConfigureAwait(false) };
                consumed[i] = true;
                for (i++; i < calls.Length && calls[i].IsCompletedSuccessfully && !(pipeline.Accepted + batch.Count >= enough); i++)
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
            await foreach (Task<ClientOutcome<FitResult>> call in Task.WhenEach(calls).WithCancellation(cancellationToken).ConfigureAwait(false))
            {
                consumed[index[call]] = true;
                Consume(new[] { await call.ConfigureAwait(false) });
                if (pipeline.Accepted >= enough)
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
                    ClientOutcome<FitResult> late = await calls[i].ConfigureAwait(false);
                    late.Result?.Dispose();
                    failures.Add(new ClientFailure(late.ClientId, RoundPhase.Fit, ClientFailureKind.NotNeeded, $"the round closed after {pipeline.Accepted} updates."));
                }
            }
        }
    }

    /// <summary>Hands a batch of consecutive outcomes to the pipeline; a rejected update is recorded and never aggregated.</summary>
    private void Consume(IReadOnlyList<ClientOutcome<FitResult>> outcomes)
    {
        var updates = new List<ClientUpdate>(outcomes.Count);
        try
        {
            foreach (ClientOutcome<FitResult> outcome in outcomes)
            {
                if (outcome.Failure is not null)
                {
                    // Failures keep their place among the rejections: what came before goes in first.
                    pipeline.Add(updates);
                    updates.Clear();
                    services.Caller.Record(failures, round, outcome.Failure);
                    continue;
                }

                FitResult result = outcome.Result!;
                updates.Add(new ClientUpdate(outcome.ClientId, result.Parameters, result.ExampleCount, result.Metrics));
                results.Add(new ClientFitMetrics(outcome.ClientId, result.ExampleCount, result.Metrics));
            }

            pipeline.Add(updates);
        }
        finally
        {
            foreach (ClientOutcome<FitResult> outcome in outcomes)
            {
                outcome.Result?.Dispose();
            }
        }
    }
}
