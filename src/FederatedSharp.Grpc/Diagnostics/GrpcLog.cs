using Microsoft.Extensions.Logging;

namespace FederatedSharp.Grpc.Diagnostics;

internal static partial class GrpcLog
{
    [LoggerMessage(EventId = 200, Level = LogLevel.Information, Message = "Client '{ClientId}' registered (session {SessionId}, {Connected} connected).")]
    public static partial void ClientRegistered(ILogger logger, string clientId, string sessionId, int connected);

    [LoggerMessage(EventId = 201, Level = LogLevel.Warning, Message = "Refused a {Call} call from {Peer}: {Status} {Reason}")]
    public static partial void CallRefused(ILogger logger, string call, string peer, string status, string reason);

    [LoggerMessage(EventId = 202, Level = LogLevel.Information, Message = "Client '{ClientId}' disconnected (session {SessionId}): {Reason}")]
    public static partial void ClientDisconnected(ILogger logger, string clientId, string sessionId, string reason);

    [LoggerMessage(EventId = 203, Level = LogLevel.Warning, Message = "Client '{ClientId}' sent no heartbeat for {Seconds:0.0} s; marked gone.")]
    public static partial void HeartbeatTimedOut(ILogger logger, string clientId, double seconds);

    [LoggerMessage(EventId = 204, Level = LogLevel.Warning, Message = "Rejected the result of task {TaskId} from '{ClientId}': {Reason}")]
    public static partial void ResultRejected(ILogger logger, string taskId, string clientId, string reason);

    [LoggerMessage(EventId = 205, Level = LogLevel.Information, Message = "Discarded a result for task {TaskId} from '{ClientId}': the task is no longer pending (late, cancelled or from an old round).")]
    public static partial void StaleResultDiscarded(ILogger logger, string taskId, string clientId);

    [LoggerMessage(EventId = 206, Level = LogLevel.Warning, Message = "Connection to {Server} lost or refused ({Reason}); reconnecting in {Delay:0.00} s (attempt {Attempt}).")]
    public static partial void Reconnecting(ILogger logger, string server, string reason, double delay, int attempt);

    [LoggerMessage(EventId = 207, Level = LogLevel.Information, Message = "Registered with {Server} as '{ClientId}'.")]
    public static partial void Connected(ILogger logger, string server, string clientId);

    [LoggerMessage(EventId = 208, Level = LogLevel.Warning, Message = "Task {TaskId} ({Kind}, round {Round}) failed locally: {Reason}")]
    public static partial void TaskFailed(ILogger logger, string taskId, string kind, int round, string reason);

    [LoggerMessage(EventId = 209, Level = LogLevel.Information, Message = "The server ended the federation: {Reason}")]
    public static partial void ShutdownReceived(ILogger logger, string reason);

    [LoggerMessage(EventId = 210, Level = LogLevel.Warning, Message = "The server discarded our result for task {TaskId}: {Reason}")]
    public static partial void ResultDiscardedByServer(ILogger logger, string taskId, string reason);

    [LoggerMessage(EventId = 211, Level = LogLevel.Error, Message = "The hosted federation failed.")]
    public static partial void HostedFederationFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 212, Level = LogLevel.Error, Message = "The hosted federated client stopped.")]
    public static partial void HostedClientFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 213, Level = LogLevel.Debug, Message = "A data connection from {Peer} ended: {Reason}")]
    public static partial void DataConnectionEnded(ILogger logger, string peer, string reason);

    [LoggerMessage(EventId = 214, Level = LogLevel.Information, Message = "The {Direction} of task {TaskId} resumes at byte {Offset} of {Total} on a new data connection.")]
    public static partial void TransferResuming(ILogger logger, string direction, string taskId, long offset, long total);

    [LoggerMessage(EventId = 215, Level = LogLevel.Information, Message = "Task {TaskId} of '{ClientId}' waits up to {Seconds:0.#} s for the client to reconnect and resume it.")]
    public static partial void TaskAwaitingResumption(ILogger logger, string taskId, string clientId, double seconds);

    [LoggerMessage(EventId = 216, Level = LogLevel.Warning, Message = "A data connection from {Peer} failed unexpectedly; the federation goes on.")]
    public static partial void DataConnectionFailed(ILogger logger, string peer, Exception exception);
}
