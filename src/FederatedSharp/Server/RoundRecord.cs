using FederatedSharp.Clients;

namespace FederatedSharp.Server;

/// <summary>Everything the server recorded about one round.</summary>
public sealed class RoundRecord
{
    /// <summary>The round number (1-based).</summary>
    public required int Round { get; init; }

    /// <summary>Whether the round produced a new global model (at least <see cref="FederatedServerOptions.MinFitClients"/> valid updates).</summary>
    public required bool Succeeded { get; init; }

    /// <summary>Why the round produced no new model, or null when it succeeded.</summary>
    public string? FailureReason { get; init; }

    /// <summary>The clients asked to train, in sampling order.</summary>
    public required IReadOnlyList<string> FitClients { get; init; }

    /// <summary>How many updates were aggregated.</summary>
    public required int AggregatedUpdates { get; init; }

    /// <summary>Example-weighted mean of the clients' training metrics.</summary>
    public required ConfigRecord FitMetrics { get; init; }

    /// <summary>Figures reported by the strategy for this round (for example <c>dp_epsilon</c>); empty for most strategies.</summary>
    public ConfigRecord AggregatorMetrics { get; init; } = ConfigRecord.Empty;

    /// <summary>The clients asked to evaluate.</summary>
    public required IReadOnlyList<string> EvaluateClients { get; init; }

    /// <summary>Example-weighted mean of the clients' evaluation losses; null when no client evaluated.</summary>
    public double? DistributedLoss { get; init; }

    /// <summary>Example-weighted mean of the clients' evaluation metrics.</summary>
    public required ConfigRecord DistributedMetrics { get; init; }

    /// <summary>The centralized evaluation's loss; null without a centralized evaluator.</summary>
    public double? CentralizedLoss { get; init; }

    /// <summary>The centralized evaluation's metrics.</summary>
    public required ConfigRecord CentralizedMetrics { get; init; }

    /// <summary>Why the centralized evaluation failed this round, or null.</summary>
    public string? CentralizedEvaluationError { get; init; }

    /// <summary>Every failed, timed-out or rejected client call of the round.</summary>
    public required IReadOnlyList<ClientFailure> Failures { get; init; }

    /// <summary>Wall time of the round.</summary>
    public required TimeSpan Duration { get; init; }

    /// <summary>
    /// Every client whose update was aggregated, with its example count and its reported fit metrics (byte values, such
    /// as SCAFFOLD's control deltas, are left out), in aggregation order.
    /// </summary>
    public IReadOnlyList<ClientFitMetrics> FitResults { get; init; } = Array.Empty<ClientFitMetrics>();

    /// <summary>Every client whose evaluation was accepted, with its example count, loss and metrics, in client order.</summary>
    public IReadOnlyList<ClientEvaluateMetrics> EvaluateResults { get; init; } = Array.Empty<ClientEvaluateMetrics>();
}
