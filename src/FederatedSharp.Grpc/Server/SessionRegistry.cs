using System.Collections.Concurrent;
using FederatedSharp.Clients;
using FederatedSharp.Grpc.Diagnostics;
using FederatedSharp.Grpc.Protocol;
using FederatedSharp.Grpc.Streaming;
using FederatedSharp.Transport;
using Grpc.Core;
using Microsoft.Extensions.Logging;

namespace FederatedSharp.Grpc.Server;

/// <summary>
/// The connected clients: registration (identity, allow and revoke lists, protocol version, the client limit, replacement
/// of an older session), each session's stream (outbound queue, heartbeat watchdog), the pending tasks, and the end of a
/// session, which fails its tasks at once unless a lost connection keeps them for the resume grace
/// (<see cref="GrpcFederationOptions.ResumeGrace"/>).
/// </summary>
internal sealed partial class SessionRegistry
{
    private static readonly TimeSpan ShutdownGrace = TimeSpan.FromSeconds(3);
    private readonly GrpcFederationOptions _options;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly GrpcCallGuard _guard;
    private readonly ConcurrentDictionary<string, ClientSession> _sessions = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, PendingTask> _tasks = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<ClientSession, Task> _running = new();
    private readonly object _gate = new();
    private readonly CancellationTokenSource _disposed = new();

    public SessionRegistry(GrpcFederationOptions options, ILogger logger, TimeProvider time, GrpcCallGuard guard)
    {
        _options = options;
        _logger = logger;
        _time = time;
        _guard = guard;
        Waiters = new ClientCountWaiter(() => _sessions.Count);
    }

    public ClientCountWaiter Waiters { get; }

    public bool IsShutDown => _disposed.IsCancellationRequested;

    public IReadOnlyList<string> ClientIds
    {
        get
        {
            string[] ids = _sessions.Keys.ToArray();
            Array.Sort(ids, StringComparer.Ordinal);
            return ids;
        }
    }

    public bool TryGetSession(string clientId, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out ClientSession? session) => _sessions.TryGetValue(clientId, out session);

    /// <summary>The data channel's advertised port, or 0 without one.</summary>
    public int DataPort { get; set; }

    public bool TryGetTask(string taskId, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out PendingTask? task) => _tasks.TryGetValue(taskId, out task);

    public void AddTask(PendingTask task)
    {
        _tasks[task.TaskId] = task;
        task.Session.Tasks[task.TaskId] = task;
    }

    public void RemoveTask(PendingTask task)
    {
        _tasks.TryRemove(task.TaskId, out _);
        task.Session.Tasks.TryRemove(task.TaskId, out _);
    }

    /// <summary>Tells every client the federation is over, fails pending tasks, and waits (up to five seconds) for the notices to be written.</summary>
    public async Task ShutdownAsync()
    {
        _disposed.Cancel();
        foreach (ClientSession session in _sessions.Values)
        {
            session.Send(new ServerMessage { Shutdown = new Shutdown { Reason = "the federation is over" } });
            session.Outbound.Writer.TryComplete();
        }

        foreach (PendingTask task in _tasks.Values)
        {
            task.TryFail(new ObjectDisposedException(nameof(GrpcFederationTransport)));
        }

        Waiters.Fail(new ObjectDisposedException(nameof(GrpcFederationTransport)));
        try
        {
            await Task.WhenAll(_running.Values).WaitAsync(TimeSpan.FromSeconds(5), _time).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
        }
    }

    public async Task RunSessionAsync(IAsyncStreamReader<ClientMessage> requests, IServerStreamWriter<ServerMessage> responses, ServerCallContext context)
    {
        ClientSession session = await AdmitAsync(requests, context).ConfigureAwait(false);
        await ServeAsync(session, requests, responses, context).ConfigureAwait(false);
    }

    /// <summary>Reads and checks the registration, then registers the session (replacing an older one of the same client).</summary>
    private async Task<ClientSession> AdmitAsync(IAsyncStreamReader<ClientMessage> requests, ServerCallContext context)
    {
        string? identity = _guard.Authenticate(context, "Session");
        ClientMessage first = await _guard.ReadWithTimeoutAsync(requests, "registration", context).ConfigureAwait(false)
            ?? throw _guard.Refuse(context, "Session", StatusCode.InvalidArgument, "The session ended before the client registered.");
        if (first.KindCase != ClientMessage.KindOneofCase.Register)
        {
            throw _guard.Refuse(context, "Session", StatusCode.InvalidArgument, $"The first session message must be a registration, not {first.KindCase}.");
        }

        Register register = first.Register;
        if (register.ProtocolVersion != GrpcProtocol.Version)
        {
            throw _guard.Refuse(context, "Session", StatusCode.FailedPrecondition, $"Protocol version {register.ProtocolVersion} is not supported; this server speaks version {GrpcProtocol.Version}.");
        }

        string clientId = CheckIdentity(register, identity, context);
        ConfigRecord properties;
        try
        {
            properties = ConfigConverter.FromWire(register.Properties);
        }
        catch (InvalidDataException ex)
        {
            throw _guard.Refuse(context, "Session", StatusCode.InvalidArgument, "Malformed client properties: " + ex.Message);
        }

        var session = new ClientSession(clientId, properties, _time.GetTimestamp());
        lock (_gate)
        {
            if (_disposed.IsCancellationRequested)
            {
                throw _guard.Refuse(context, "Session", StatusCode.Unavailable, "The federation is over.");
            }

            if (!_sessions.ContainsKey(clientId) && _sessions.Count >= _options.MaxClients)
            {
                throw _guard.Refuse(context, "Session", StatusCode.ResourceExhausted, $"The federation already has its maximum of {_options.MaxClients} connected clients.");
            }

            if (_sessions.TryGetValue(clientId, out ClientSession? previous))
            {
                EndSession(previous, "replaced by a new connection of the same client", keepTasks: true);
            }

            var resumed = Resume(session, register.RunningTaskIds);

            // The confirmation is queued before the session becomes visible, so no task can overtake it (a server that
            // started a task the moment the client appeared used to send the task first, and the client reconnected).
            session.Send(new ServerMessage
            {
                Registered = new Registered
                {
                    ProtocolVersion = GrpcProtocol.Version,
                    SessionId = session.SessionId,
                    HeartbeatIntervalMs = (int)_options.HeartbeatInterval.TotalMilliseconds,
                    ChunkBytes = _options.ChunkBytes,
                    ModelFormat = _options.Serializer.Format,
                    UploadFormat = _options.Uplink.Format,
                    DataPort = DataPort,
                    DataWindowBytes = DataPort > 0 ? _options.DataChannel.WindowBytes : 0,
                    ResumeGraceMs = (int)Math.Min(int.MaxValue, _options.ResumeGrace.TotalMilliseconds),
                    ResumedTaskIds = { resumed },
                },
            });
            _sessions[clientId] = session;
            GrpcInstruments.ConnectedClients.Add(1);
        }

        Waiters.Notify();
        GrpcLog.ClientRegistered(_logger, clientId, session.SessionId, _sessions.Count);
        return session;
    }

    /// <summary>The registering client's id, after the id rules, the credentials, and the allow and revoke lists.</summary>
    private string CheckIdentity(Register register, string? identity, ServerCallContext context)
    {
        string clientId = register.ClientId;
        if (string.IsNullOrWhiteSpace(clientId) || clientId.Length > 256 || clientId.Any(char.IsControl))
        {
            throw _guard.Refuse(context, "Session", StatusCode.InvalidArgument, "The client id must be 1-256 printable characters.");
        }

        if (identity is not null && identity != clientId)
        {
            throw _guard.Refuse(context, "Session", StatusCode.PermissionDenied, $"The credentials are for client '{identity}', but the registration names '{clientId}'.");
        }

        if (_options.AllowedClientIds.Count > 0 && !_options.AllowedClientIds.Contains(clientId))
        {
            throw _guard.Refuse(context, "Session", StatusCode.PermissionDenied, $"Unknown client '{clientId}': it is not a participant of this federation.");
        }

        bool revoked;
        lock (_options.RevokedClientIds)
        {
            revoked = _options.RevokedClientIds.Contains(clientId);
        }

        if (revoked)
        {
            throw _guard.Refuse(context, "Session", StatusCode.PermissionDenied, $"Client '{clientId}' is revoked.");
        }

        return clientId;
    }

    /// <summary>Serves a registered session until it ends: heartbeats, task errors, the outbound queue and the watchdog.</summary>
    private async Task ServeAsync(ClientSession session, IAsyncStreamReader<ClientMessage> requests, IServerStreamWriter<ServerMessage> responses, ServerCallContext context)
    {
        string clientId = session.ClientId;
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(context.CancellationToken, session.Ended);
        // The watchdog's timer exists before the confirmation is written, so a client that has been confirmed is watched.
        Task watchdog = WatchHeartbeatAsync(session, linked.Token);
        Task writer = WriteOutboundAsync(session, responses, context.CancellationToken);
        _running[session] = writer;
        try
        {
            while (await requests.MoveNext(linked.Token).ConfigureAwait(false))
            {
                session.Touch(_time.GetTimestamp());
                ClientMessage message = requests.Current;
                switch (message.KindCase)
                {
                    case ClientMessage.KindOneofCase.Heartbeat:
                        break;
                    case ClientMessage.KindOneofCase.TaskError:
                        if (session.Tasks.TryGetValue(message.TaskError.TaskId, out PendingTask? failed))
                        {
                            string reason = message.TaskError.Message.Length > 2048 ? message.TaskError.Message[..2048] : message.TaskError.Message;
                            failed.TryFail(message.TaskError.Unsupported
                                ? new ClientFailedException(clientId, reason, new UnsupportedTaskException("query", reason))
                                : new ClientFailedException(clientId, reason));
                        }

                        break;
                    default:
                        EndSession(session, $"protocol violation: unexpected {message.KindCase} message");
                        throw _guard.Refuse(context, "Session", StatusCode.InvalidArgument, $"Unexpected {message.KindCase} message after registration.");
                }
            }

            EndSession(session, _disposed.IsCancellationRequested ? "the federation is over" : "the client closed the session");
        }
        catch (OperationCanceledException) when (linked.IsCancellationRequested)
        {
            EndSession(session, context.CancellationToken.IsCancellationRequested ? "connection lost" : session.EndReason, keepTasks: true);
        }
        catch (IOException ex)
        {
            EndSession(session, "connection lost: " + ex.Message, keepTasks: true);
        }
        finally
        {
            EndSession(session, "connection lost", keepTasks: true);
            await writer.ConfigureAwait(false);
            await watchdog.ConfigureAwait(false);
            _running.TryRemove(session, out _);
        }
    }

    /// <summary>
    /// Writes the session's outbound queue to its stream until the queue is completed: by the end of the session, or at
    /// shutdown. Ending a session is decided once, where it ends: this loop seeing the queue completed does not end it
    /// again, which would fail the tasks a lost connection keeps for the resume grace.
    /// </summary>
    internal async Task WriteOutboundAsync(ClientSession session, IServerStreamWriter<ServerMessage> responses, CancellationToken cancellationToken)
    {
        try
        {
            await foreach (ServerMessage message in session.Outbound.Reader.ReadAllAsync(cancellationToken).ConfigureAwait(false))
            {
                await responses.WriteAsync(message, cancellationToken).ConfigureAwait(false);
            }

            // The queue was completed: the session ended (whoever ended it has failed its tasks or kept them for the
            // resume grace), or the federation is over and the shutdown notice is out. In the latter case give the
            // client a moment to close its side first (it does so on the notice), so the call ends cleanly instead of
            // being reset with the notice still in flight.
            if (_disposed.IsCancellationRequested && !session.IsEnded)
            {
                _ = Task.Delay(ShutdownGrace, _time, CancellationToken.None).ContinueWith(_ => EndSession(session, "the federation is over"), TaskScheduler.Default);
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException or InvalidOperationException)
        {
            EndSession(session, "connection lost while sending", keepTasks: true);
        }
    }

    private async Task WatchHeartbeatAsync(ClientSession session, CancellationToken cancellationToken)
    {
        TimeSpan period = TimeSpan.FromTicks(Math.Max(_options.HeartbeatInterval.Ticks / 2, TimeSpan.FromMilliseconds(10).Ticks));
        using var timer = new PeriodicTimer(period, _time);
        try
        {
            while (await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false))
            {
                TimeSpan silent = _time.GetElapsedTime(session.LastSeen);
                if (silent > _options.HeartbeatTimeout)
                {
                    GrpcLog.HeartbeatTimedOut(_logger, session.ClientId, silent.TotalSeconds);
                    EndSession(session, $"no heartbeat for {silent.TotalSeconds:0.0} s", keepTasks: true);
                    return;
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    /// <summary>Refuses a client from now on and ends its live session, failing its pending tasks.</summary>
    public void Revoke(string clientId, string reason)
    {
        lock (_options.RevokedClientIds)
        {
            _options.RevokedClientIds.Add(clientId);
        }

        if (_sessions.TryGetValue(clientId, out ClientSession? session))
        {
            EndSession(session, "revoked: " + reason);
        }
    }

    /// <summary>
    /// Ends a session. Its pending tasks fail now, unless <paramref name="keepTasks"/> (a lost connection) and a resume
    /// grace is set: then they wait that long for the client to register again and resume them.
    /// </summary>
    public void EndSession(ClientSession session, string reason, bool keepTasks = false)
    {
        bool first = !session.IsEnded;
        session.End(reason);
        lock (_gate)
        {
            if (_sessions.TryGetValue(session.ClientId, out ClientSession? current) && ReferenceEquals(current, session))
            {
                _sessions.TryRemove(session.ClientId, out _);
                GrpcInstruments.ConnectedClients.Add(-1);
            }
        }

        foreach (PendingTask task in session.Tasks.Values)
        {
            if (keepTasks && _options.ResumeGrace > TimeSpan.Zero && !_disposed.IsCancellationRequested)
            {
                AwaitResumption(task, session);
            }
            else
            {
                task.TryFail(new ClientFailedException(session.ClientId, $"its connection ended: {session.EndReason}."));
            }
        }

        if (first)
        {
            GrpcLog.ClientDisconnected(_logger, session.ClientId, session.SessionId, session.EndReason);
        }
    }

    public PendingTask FindTask(string taskId, string? identity, ServerCallContext context, string call) => FindTask(taskId, identity, context.Peer, call);

    /// <summary>The pending task of that id, if it is the caller's.</summary>
    /// <exception cref="RpcException">NOT_FOUND or PERMISSION_DENIED (counted and logged).</exception>
    public PendingTask FindTask(string taskId, string? identity, string peer, string call)
    {
        if (!_tasks.TryGetValue(taskId, out PendingTask? task))
        {
            throw _guard.Refuse(peer, call, StatusCode.NotFound, $"Task '{taskId}' is not pending (late, cancelled or from an old round).");
        }

        if (identity is not null && identity != task.Session.ClientId)
        {
            throw _guard.Refuse(peer, call, StatusCode.PermissionDenied, $"Task '{taskId}' belongs to another client.");
        }

        return task;
    }
}
