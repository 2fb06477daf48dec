namespace FederatedSharp.Server.Audit;

/// <summary>A client left out of a round's model, and why.</summary>
/// <param name="ClientId">The client.</param>
/// <param name="Phase">"fit" or "evaluate".</param>
/// <param name="Kind">What happened (crash, timeout, rejected update, ...).</param>
/// <param name="Reason">The reason recorded by the server.</param>
public sealed record AuditRejection(string ClientId, string Phase, string Kind, string Reason);

/// <summary>What happened in one round, as the audit log keeps it.</summary>
public sealed record AuditEntry
{
    /// <summary>The round (the model version in buffered mode).</summary>
    public required int Round { get; init; }

    /// <summary>When the round ended.</summary>
    public required DateTimeOffset Timestamp { get; init; }

    /// <summary>SHA-256 of the global model after the round (layout and values), lower-case hex.</summary>
    public required string ModelSha256 { get; init; }

    /// <summary>The strategy's name.</summary>
    public required string Strategy { get; init; }

    /// <summary>The server configuration's fingerprint (rounds, seed, strategy and its hyperparameters, ...).</summary>
    public required string ConfigurationHash { get; init; }

    /// <summary>The clients whose updates went into the model, in order.</summary>
    public required IReadOnlyList<string> Participants { get; init; }

    /// <summary>Clients left out, with reasons.</summary>
    public required IReadOnlyList<AuditRejection> Rejected { get; init; }

    /// <summary>What the strategy reported for the round (for DP-FedAvg: clip norm, noise, epsilon), as text.</summary>
    public required IReadOnlyDictionary<string, string> StrategyParameters { get; init; }

    /// <summary>The privacy budget spent so far (epsilon), when the strategy accounts for one.</summary>
    public double? EpsilonSoFar { get; init; }
}

/// <summary>An entry as stored: with its position and the hash chain.</summary>
/// <param name="Sequence">0 for the first record of the log, then 1, 2, ...</param>
/// <param name="Entry">The round's facts.</param>
/// <param name="PreviousHash">The hash of the record before (64 zeros for the first).</param>
/// <param name="Hash">SHA-256 of this record's stored text, which includes <paramref name="PreviousHash"/>.</param>
public sealed record AuditRecord(long Sequence, AuditEntry Entry, string PreviousHash, string Hash);
