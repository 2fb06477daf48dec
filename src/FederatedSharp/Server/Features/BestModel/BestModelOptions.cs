using FederatedSharp.Server.Checkpoints;

namespace FederatedSharp.Server;

/// <summary>Where a round's metric for best-model selection comes from.</summary>
public enum MetricSource
{
    /// <summary>Federated evaluation: <see cref="RoundRecord.DistributedMetrics"/> (or <see cref="RoundRecord.DistributedLoss"/> for <c>loss</c>).</summary>
    Distributed,

    /// <summary>Centralized evaluation: <see cref="RoundRecord.CentralizedMetrics"/> (or <see cref="RoundRecord.CentralizedLoss"/> for <c>loss</c>).</summary>
    Centralized,
}

/// <summary>Best-model selection (<see cref="BestModelServerBuilderExtensions.UseBestModelSelection"/>).</summary>
public sealed class BestModelOptions
{
    /// <summary>The store that keeps the best round's checkpoint (model, strategy state, history), for example a <see cref="FileCheckpointStore"/> in its own folder.</summary>
    public required ICheckpointStore Store { get; init; }

    /// <summary>The metric to select by: an evaluation metric's name, or <c>loss</c>.</summary>
    public required string Metric { get; init; }

    /// <summary>True when larger is better (accuracy, AUC); false when smaller is (loss).</summary>
    public required bool Maximize { get; init; }

    /// <summary>Federated or centralized evaluation (default federated).</summary>
    public MetricSource Source { get; init; } = MetricSource.Distributed;
}
