using FederatedSharp.Clients;
using FederatedSharp.Diagnostics;
using FederatedSharp.Parameters;

namespace FederatedSharp.Server.Engine;

/// <summary>The evaluate phase of every driver: federated evaluation on sampled clients, then the centralized evaluator.</summary>
internal static class EvaluationPhase
{
    public static async Task<Evaluation> RunAsync(FederationContext context, int round, ModelParameters model, List<ClientFailure> failures, CancellationToken cancellationToken)
    {
        EngineServices services = context.Services;
        Evaluation evaluation = await DistributedAsync(services, round, model, failures, cancellationToken).ConfigureAwait(false);
        cancellationToken.ThrowIfCancellationRequested();
        if (services.CentralizedEvaluator is null)
        {
            return evaluation;
        }

        try
        {
            EvaluateResult result = await services.CentralizedEvaluator(round, model, cancellationToken).ConfigureAwait(false);
            return evaluation with { CentralizedLoss = result.Loss, CentralizedMetrics = result.Metrics };
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
        catch (Exception ex)
        {
            // An evaluation problem never costs the round its training.
            string error = $"{ex.GetType().Name}: {ex.Message}";
            Log.CentralizedEvaluationFailed(services.Logger, round, error);
            return evaluation with { CentralizedError = error };
        }
    }

    private static async Task<Evaluation> DistributedAsync(EngineServices services, int round, ModelParameters model, List<ClientFailure> failures, CancellationToken cancellationToken)
    {
        FederatedServerOptions options = services.Options;
        if (options.FractionEvaluate <= 0)
        {
            return Evaluation.None;
        }

        IReadOnlyList<string> available = services.Driver.EvaluationCandidates(services.Transport.GetAvailableClients());
        int count = ClientSampler.SampleSize(available.Count, options.FractionEvaluate, options.MinEvaluateClients);
        IReadOnlyList<string> clients = ClientSampler.Sample(available, count, options.Seed, round, RoundPhase.Evaluate);
        ConfigRecord config = services.EvaluateConfig?.Invoke(round)?.Copy() ?? new ConfigRecord();
        config[ConfigKeys.Round] = round;
        config.Freeze();
        var instructions = new EvaluateInstructions(round, model, config);
        ClientOutcome<EvaluateResult>[] outcomes;
        using (var evaluateCts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
        {
            outcomes = await Task.WhenAll(clients.Select(id => services.Caller.CallAsync(
                id, RoundPhase.Evaluate, round, options.EvaluateTimeout, (c, ct) => c.EvaluateAsync(instructions, ct), evaluateCts.Token))).ConfigureAwait(false);
            await evaluateCts.CancelAsync().ConfigureAwait(false);
        }

        var answered = new List<ClientEvaluateMetrics>();
        double lossSum = 0;
        long examples = 0;
        foreach (ClientOutcome<EvaluateResult> outcome in outcomes)
        {
            if (outcome.Failure is not null)
            {
                services.Caller.Record(failures, round, outcome.Failure);
                continue;
            }

            EvaluateResult result = outcome.Result!;
            if (result.ExampleCount <= 0 || !double.IsFinite(result.Loss))
            {
                services.Caller.Record(failures, round, new ClientFailure(outcome.ClientId, RoundPhase.Evaluate, ClientFailureKind.Rejected,
                    $"evaluation with {result.ExampleCount} examples and loss {result.Loss} was rejected."));
                continue;
            }

            lossSum += result.ExampleCount * result.Loss;
            examples += result.ExampleCount;
            answered.Add(new ClientEvaluateMetrics(outcome.ClientId, result.ExampleCount, result.Loss, result.Metrics));
        }

        if (answered.Count == 0 || answered.Count < options.MinEvaluateClients)
        {
            return Evaluation.None with { Clients = clients, Results = answered };
        }

        return Evaluation.None with { Clients = clients, Loss = lossSum / examples, Metrics = services.Metrics.AggregateEvaluate(answered), Results = answered };
    }
}

/// <summary>What the evaluate phase found.</summary>
internal sealed record Evaluation(
    IReadOnlyList<string> Clients, double? Loss, ConfigRecord Metrics, IReadOnlyList<ClientEvaluateMetrics> Results,
    double? CentralizedLoss, ConfigRecord CentralizedMetrics, string? CentralizedError)
{
    public static Evaluation None { get; } = new(Array.Empty<string>(), null, ConfigRecord.Empty, Array.Empty<ClientEvaluateMetrics>(), null, ConfigRecord.Empty, null);
}
