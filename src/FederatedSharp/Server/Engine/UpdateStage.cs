using FederatedSharp.Aggregation;
using FederatedSharp.Clients;
using FederatedSharp.Parameters;

namespace FederatedSharp.Server.Engine;

/// <summary>
/// One stage of the update pipeline every accepted client update flows through on its way to the strategy, in
/// ascending <see cref="Order"/>: validate (<see cref="UpdateStageOrder.Validate"/>), clip
/// (<see cref="UpdateStageOrder.Clip"/>), add noise (<see cref="UpdateStageOrder.Noise"/>), then the strategy
/// aggregates. A feature registers its stages in <see cref="FederationFeature.OnBuild"/>. Per round the engine calls
/// <see cref="BeginRound"/> on every stage, last first, so each stage's sink forwards to the next one's.
/// </summary>
public abstract class UpdateStage
{
    /// <summary>The stage's name (for error messages).</summary>
    public abstract string Name { get; }

    /// <summary>Where the stage runs; see <see cref="UpdateStageOrder"/>. Stages of equal order run in registration order.</summary>
    public abstract int Order { get; }

    /// <summary>Starts a round: returns the sink that takes this stage's input and feeds <paramref name="next"/>.</summary>
    /// <param name="context">The round.</param>
    /// <param name="next">The following stage (or the strategy).</param>
    /// <returns>The stage's sink for this round; the engine disposes it.</returns>
    public abstract IUpdateSink BeginRound(UpdateStageContext context, IUpdateSink next);
}

/// <summary>Where the built-in stages run (<see cref="UpdateStage.Order"/>); leave gaps for your own.</summary>
public static class UpdateStageOrder
{
    /// <summary>Turning compressed updates (sparse deltas) back into models, before anything checks them.</summary>
    public const int Expand = 50;

    /// <summary>Completing partial updates with the model's other tensors, after they are expanded.</summary>
    public const int Complete = 60;

    /// <summary>Update validation: layout, finite values, example count, norm bounds, rate limits.</summary>
    public const int Validate = 100;

    /// <summary>Re-expressing updates against the round's model (FedBuff's staleness-weighted deltas).</summary>
    public const int Rebase = 150;

    /// <summary>Norm clipping (central DP).</summary>
    public const int Clip = 200;

    /// <summary>Noise (central DP).</summary>
    public const int Noise = 300;
}

/// <summary>
/// One round's input to a stage (or to the strategy). <see cref="Add"/> takes consecutive updates in aggregation order;
/// the updates' parameters remain the caller's and may be disposed once the call returns, but their values must not
/// change after it (the strategy may hold them, read-only, until the round is over). A stage rejects an update
/// with <see cref="UpdateStageContext.Reject"/> and does not forward it.
/// </summary>
public interface IUpdateSink : IDisposable
{
    /// <summary>Takes updates, in order.</summary>
    /// <param name="updates">The updates.</param>
    void Add(IReadOnlyList<ClientUpdate> updates);

    /// <summary>Produces the round's new global parameters (the caller owns them).</summary>
    /// <returns>The parameters.</returns>
    /// <exception cref="InvalidOperationException">The strategy cannot aggregate what it was given (for example too few updates).</exception>
    ModelParameters Complete();

    /// <summary>Figures worth recording (privacy spent, clipping...), merged into <see cref="RoundRecord.AggregatorMetrics"/> after <see cref="Complete"/>.</summary>
    ConfigRecord Metrics { get; }
}

/// <summary>What a stage knows about the round it works in.</summary>
public sealed class UpdateStageContext
{
    private readonly Action<string, string> _reject;

    internal UpdateStageContext(int round, ModelParameters global, int sampledClients, int availableClients, IAggregator aggregator, Action<string, string> reject)
    {
        Round = round;
        Global = global;
        SampledClients = sampledClients;
        AvailableClients = availableClients;
        Aggregator = aggregator;
        _reject = reject;
    }

    /// <summary>The round (for FedBuff, the model version being built).</summary>
    public int Round { get; }

    /// <summary>The global model the round aggregates against (read-only).</summary>
    public ModelParameters Global { get; }

    /// <summary>How many clients were asked to train.</summary>
    public int SampledClients { get; }

    /// <summary>How many clients were connected when the round started.</summary>
    public int AvailableClients { get; }

    /// <summary>The strategy at the end of the pipeline.</summary>
    public IAggregator Aggregator { get; }

    /// <summary>Rejects a client's update: it is recorded as <see cref="ClientFailureKind.Rejected"/> and must not be forwarded.</summary>
    /// <param name="clientId">The client.</param>
    /// <param name="reason">Why, for the failure record.</param>
    public void Reject(string clientId, string reason) => _reject(clientId, reason);
}
