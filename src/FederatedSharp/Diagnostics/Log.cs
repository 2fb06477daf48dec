using Microsoft.Extensions.Logging;

namespace FederatedSharp.Diagnostics;

/// <summary>The library's log messages, with stable event ids (1xx: server).</summary>
internal static partial class Log
{
    [LoggerMessage(100, LogLevel.Information, "Federation starting: {Rounds} rounds with {Aggregator}, {Parameters} parameters, seed {Seed}")]
    public static partial void FederationStarting(ILogger logger, int rounds, string aggregator, int parameters, ulong seed);

    [LoggerMessage(101, LogLevel.Information, "Waiting for {Minimum} clients ({Available} connected)")]
    public static partial void WaitingForClients(ILogger logger, int minimum, int available);

    [LoggerMessage(102, LogLevel.Debug, "Round {Round}: {Sampled} of {Available} clients sampled for fit")]
    public static partial void RoundStarted(ILogger logger, int round, int sampled, int available);

    [LoggerMessage(103, LogLevel.Warning, "Round {Round}: {Phase} on client {ClientId} failed ({Kind}): {Reason}")]
    public static partial void ClientFailed(ILogger logger, int round, string phase, string clientId, string kind, string reason);

    [LoggerMessage(104, LogLevel.Information, "Round {Round} done in {Seconds:F2} s: {Succeeded}/{Sampled} updates aggregated, distributed loss {Loss}")]
    public static partial void RoundCompleted(ILogger logger, int round, double seconds, int succeeded, int sampled, string loss);

    [LoggerMessage(105, LogLevel.Error, "Round {Round} failed: only {Succeeded} updates, {Minimum} needed; the previous global model stands")]
    public static partial void RoundFailed(ILogger logger, int round, int succeeded, int minimum);

    [LoggerMessage(106, LogLevel.Information, "Federation finished: {Rounds} rounds in {Seconds:F2} s ({Failed} failed)")]
    public static partial void FederationCompleted(ILogger logger, int rounds, double seconds, int failed);

    [LoggerMessage(107, LogLevel.Warning, "Round {Round}: a late {Phase} result from client {ClientId} arrived after its deadline and was discarded")]
    public static partial void LateResultDiscarded(ILogger logger, int round, string phase, string clientId);

    [LoggerMessage(108, LogLevel.Warning, "Round {Round}: centralized evaluation failed: {Reason}")]
    public static partial void CentralizedEvaluationFailed(ILogger logger, int round, string reason);

    [LoggerMessage(109, LogLevel.Error, "Round {Round} failed: {Reason}; the previous global model stands")]
    public static partial void AggregationFailed(ILogger logger, int round, string reason);

    [LoggerMessage(110, LogLevel.Warning, "Skipped a checkpoint: {Problem}")]
    public static partial void CheckpointSkipped(ILogger logger, string problem);

    [LoggerMessage(111, LogLevel.Information, "Resuming the federation after round {Round} from its checkpoint")]
    public static partial void Resumed(ILogger logger, int round);

    [LoggerMessage(112, LogLevel.Warning, "Client {ClientId} failed {Failures} fits in a row: quarantined for rounds {From} to {To}")]
    public static partial void ClientQuarantined(ILogger logger, string clientId, int failures, int from, int to);

    [LoggerMessage(113, LogLevel.Information, "Round {Round}: retrying the {Phase} call to client {ClientId} (attempt {Attempt} failed: {Reason})")]
    public static partial void ClientCallRetried(ILogger logger, int round, string phase, string clientId, int attempt, string reason);

    [LoggerMessage(114, LogLevel.Information, "Query {Query}: {Answered} of {Asked} clients answered")]
    public static partial void QueryCompleted(ILogger logger, string query, int answered, int asked);

    [LoggerMessage(115, LogLevel.Warning, "Client {ClientId} holds downlink reference {Held:x16}, not the {Expected:x16} sent (a lossy downlink format?): it gets whole models until it holds what was sent")]
    public static partial void DownlinkReferenceMismatch(ILogger logger, string clientId, long held, long expected);
}
