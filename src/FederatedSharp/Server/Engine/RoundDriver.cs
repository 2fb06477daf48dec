using FederatedSharp.Aggregation;
using FederatedSharp.Clients;
using FederatedSharp.Parameters;

namespace FederatedSharp.Server.Engine;

/// <summary>
/// How a round's model is produced (select, configure, call clients, take in updates, aggregate): synchronous
/// rounds, buffered asynchronous rounds (FedBuff) or secure rounds. The engine runs evaluation, recording and every
/// feature's hooks around it, the same for all.
/// </summary>
internal abstract class RoundDriver : IAsyncDisposable
{
    /// <summary>The strategy as named in logs.</summary>
    public virtual string Describe(IAggregator aggregator) => aggregator.Name;

    /// <summary>Produces round <paramref name="round"/>'s model (or its failure) from <see cref="FederationContext.Global"/>.</summary>
    public abstract Task<FitPhase> RunFitAsync(FederationContext context, int round, CancellationToken cancellationToken);

    /// <summary>Clients the evaluation phase may use (FedBuff leaves out those still training).</summary>
    public virtual IReadOnlyList<string> EvaluationCandidates(IReadOnlyList<string> available) => available;

    /// <inheritdoc />
    public virtual ValueTask DisposeAsync() => default;
}

/// <summary>The outcome of a round's fit phase.</summary>
internal sealed class FitPhase
{
    /// <summary>The new global model (owned by the engine from here on); null when the round failed.</summary>
    public ModelParameters? Next { get; init; }

    public string? FailureReason { get; init; }

    public required IReadOnlyList<string> FitClients { get; init; }

    public required int Aggregated { get; init; }

    public required IReadOnlyList<ClientFitMetrics> Results { get; init; }

    public ConfigRecord AggregatorMetrics { get; init; } = ConfigRecord.Empty;

    public required List<ClientFailure> Failures { get; init; }
}
