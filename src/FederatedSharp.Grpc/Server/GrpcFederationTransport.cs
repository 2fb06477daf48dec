using System.Collections.Concurrent;
using FederatedSharp.Clients;
using FederatedSharp.Grpc.Diagnostics;
using FederatedSharp.Grpc.Protocol;
using FederatedSharp.Grpc.Streaming;
using FederatedSharp.Parameters;
using FederatedSharp.Serialization;
using FederatedSharp.Transport;
using Grpc.Core;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace FederatedSharp.Grpc.Server;

/// <summary>
/// The server side of a networked federation: the <see cref="ITransport"/> a <see cref="FederatedSharp.Server.FederatedServer"/>
/// runs on, fed by the gRPC service that clients connect to. Clients register over a session stream and stay
/// available while they send heartbeats; a silent or disconnected client is removed and its pending tasks fail at once,
/// so a round never waits for it. The global model is serialized once per round and phase and streamed in chunks to
/// every sampled client; updates are deserialized straight from the incoming chunks.
/// </summary>
public sealed class GrpcFederationTransport : ITransport
{
    private const int PayloadCacheSize = 4;
    private static readonly TimeSpan ShutdownGrace = TimeSpan.FromSeconds(3);
    private readonly GrpcFederationOptions _options;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly ClientAuthenticator _authenticator;
    private readonly ConcurrentDictionary<string, ClientSession> _sessions = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, PendingTask> _tasks = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _uploads;
    private readonly object _gate = new();
    private readonly ClientCountWaiter _waiters;
    private readonly LinkedList<(ModelParameters Parameters, int Round, TaskKind Kind, Lazy<ChunkedPayload> Payload)> _payloads = new();
    private readonly CancellationTokenSource _disposed = new();
    private readonly ConcurrentDictionary<ClientSession, Task> _running = new();
    private long _bytesSent;
    private long _bytesReceived;
    private long _refusedCalls;

    /// <summary>Creates the transport.</summary>
    /// <param name="options">Settings.</param>
    /// <param name="logger">Logger; null for none.</param>
    /// <param name="timeProvider">Clock for heartbeats; null for the system clock.</param>
    /// <exception cref="ArgumentException">The options are invalid.</exception>
    public GrpcFederationTransport(GrpcFederationOptions options, ILogger<GrpcFederationTransport>? logger = null, TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _options = options;
        _logger = (ILogger?)logger ?? NullLogger.Instance;
        _time = timeProvider ?? TimeProvider.System;
        _authenticator = new ClientAuthenticator(options);
        _uploads = new SemaphoreSlim(options.MaxConcurrentUploads, options.MaxConcurrentUploads);
        _waiters = new ClientCountWaiter(() => _sessions.Count);
    }

    /// <summary>The settings.</summary>
    public GrpcFederationOptions Options => _options;

    /// <summary>Model bytes streamed to clients.</summary>
    public long BytesSent => Interlocked.Read(ref _bytesSent);

    /// <summary>Model bytes received from clients.</summary>
    public long BytesReceived => Interlocked.Read(ref _bytesReceived);

    /// <summary>Calls refused (authentication, limits, malformed or stale messages).</summary>
    public long RefusedCalls => Interlocked.Read(ref _refusedCalls);

    /// <inheritdoc />
    public IReadOnlyList<string> GetAvailableClients()
    {
        string[] ids = _sessions.Keys.ToArray();
        Array.Sort(ids, StringComparer.Ordinal);
        return ids;
    }

    /// <inheritdoc />
    public Task WaitForClientsAsync(int minimum, CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_disposed.IsCancellationRequested, this);
        return _waiters.WaitAsync(minimum, cancellationToken);
    }

    /// <inheritdoc />
    public IClientConnection GetConnection(string clientId)
    {
        ArgumentNullException.ThrowIfNull(clientId);
        if (!_sessions.ContainsKey(clientId))
        {
            throw new UnknownClientException(clientId);
        }

        return new GrpcClientConnection(this, clientId);
    }

    /// <summary>
    /// Tells every connected client the federation is over, fails pending tasks and stops accepting clients; waits (up to
    /// five seconds) until the shutdown notices are written, so clients end instead of reconnecting.
    /// </summary>
    /// <returns>A task that completes when done.</returns>
    public async ValueTask DisposeAsync()
    {
        if (_disposed.IsCancellationRequested)
        {
            return;
        }

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

        _waiters.Fail(new ObjectDisposedException(nameof(GrpcFederationTransport)));
        lock (_gate)
        {
            _payloads.Clear();
        }

        try
        {
            await Task.WhenAll(_running.Values).WaitAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
        }
    }

    internal async Task<object> RunTaskAsync(string clientId, TaskKind kind, int round, ModelParameters? parameters, ConfigRecord config, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_disposed.IsCancellationRequested, this);
        if (!_sessions.TryGetValue(clientId, out ClientSession? session))
        {
            throw new ClientFailedException(clientId, "it is not connected.");
        }

        ChunkedPayload? payload = parameters is null ? null : GetPayload(parameters, round, kind);
        var task = new PendingTask(Guid.NewGuid().ToString("N"), session, kind, round, payload);
        _tasks[task.TaskId] = task;
        session.Tasks[task.TaskId] = task;
        try
        {
            if (session.IsEnded)
            {
                throw new ClientFailedException(clientId, $"its connection ended: {session.EndReason}.");
            }

            session.Send(new ServerMessage
            {
                Task = new TaskInstruction
                {
                    TaskId = task.TaskId,
                    Kind = kind,
                    Round = round,
                    Config = ConfigConverter.ToWire(config),
                    ModelBytes = payload?.Length ?? 0,
                },
            });
            using CancellationTokenRegistration registration = cancellationToken.Register(() =>
            {
                if (task.Completion.TrySetCanceled(cancellationToken))
                {
                    session.Send(new ServerMessage { Cancel = new CancelTask { TaskId = task.TaskId, Reason = "cancelled by the server (deadline or round over)" } });
                }
            });
            return await task.Completion.Task.ConfigureAwait(false);
        }
        finally
        {
            _tasks.TryRemove(task.TaskId, out _);
            session.Tasks.TryRemove(task.TaskId, out _);
        }
    }

    internal ConfigRecord GetRegisteredProperties(string clientId) =>
        _sessions.TryGetValue(clientId, out ClientSession? session) ? session.Properties : throw new ClientFailedException(clientId, "it is not connected.");

    internal async Task RunSessionAsync(IAsyncStreamReader<ClientMessage> requests, IServerStreamWriter<ServerMessage> responses, ServerCallContext context)
    {
        string? identity = Authenticate(context, "Session");
        ClientMessage first = await ReadWithTimeoutAsync(requests, "registration", context).ConfigureAwait(false)
            ?? throw Refuse(context, "Session", StatusCode.InvalidArgument, "The session ended before the client registered.");
        if (first.KindCase != ClientMessage.KindOneofCase.Register)
        {
            throw Refuse(context, "Session", StatusCode.InvalidArgument, $"The first session message must be a registration, not {first.KindCase}.");
        }

        Register register = first.Register;
        if (register.ProtocolVersion != GrpcProtocol.Version)
        {
            throw Refuse(context, "Session", StatusCode.FailedPrecondition, $"Protocol version {register.ProtocolVersion} is not supported; this server speaks version {GrpcProtocol.Version}.");
        }

        string clientId = register.ClientId;
        if (string.IsNullOrWhiteSpace(clientId) || clientId.Length > 256 || clientId.Any(char.IsControl))
        {
            throw Refuse(context, "Session", StatusCode.InvalidArgument, "The client id must be 1-256 printable characters.");
        }

        if (identity is not null && identity != clientId)
        {
            throw Refuse(context, "Session", StatusCode.PermissionDenied, $"The credentials are for client '{identity}', but the registration names '{clientId}'.");
        }

        if (_options.AllowedClientIds.Count > 0 && !_options.AllowedClientIds.Contains(clientId))
        {
            throw Refuse(context, "Session", StatusCode.PermissionDenied, $"Unknown client '{clientId}': it is not a participant of this federation.");
        }

        if (_options.RevokedClientIds.Contains(clientId))
        {
            throw Refuse(context, "Session", StatusCode.PermissionDenied, $"Client '{clientId}' is revoked.");
        }

        ConfigRecord properties;
        try
        {
            properties = ConfigConverter.FromWire(register.Properties);
        }
        catch (InvalidDataException ex)
        {
            throw Refuse(context, "Session", StatusCode.InvalidArgument, "Malformed client properties: " + ex.Message);
        }

        var session = new ClientSession(clientId, properties, _time.GetTimestamp());
        lock (_gate)
        {
            if (_disposed.IsCancellationRequested)
            {
                throw Refuse(context, "Session", StatusCode.Unavailable, "The federation is over.");
            }

            if (!_sessions.ContainsKey(clientId) && _sessions.Count >= _options.MaxClients)
            {
                throw Refuse(context, "Session", StatusCode.ResourceExhausted, $"The federation already has its maximum of {_options.MaxClients} connected clients.");
            }

            if (_sessions.TryGetValue(clientId, out ClientSession? previous))
            {
                EndSession(previous, "replaced by a new connection of the same client");
            }

            _sessions[clientId] = session;
        }

        _waiters.Notify();

        GrpcLog.ClientRegistered(_logger, clientId, session.SessionId, _sessions.Count);
        session.Send(new ServerMessage
        {
            Registered = new Registered
            {
                ProtocolVersion = GrpcProtocol.Version,
                SessionId = session.SessionId,
                HeartbeatIntervalMs = (int)_options.HeartbeatInterval.TotalMilliseconds,
                ChunkBytes = _options.ChunkBytes,
                ModelFormat = _options.Serializer.Format,
            },
        });

        using var linked = CancellationTokenSource.CreateLinkedTokenSource(context.CancellationToken, session.Ended);
        Task writer = WriteOutboundAsync(session, responses, context.CancellationToken);
        _running[session] = writer;
        Task watchdog = WatchHeartbeatAsync(session, linked.Token);
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
                            failed.TryFail(new ClientFailedException(clientId, reason));
                        }

                        break;
                    default:
                        EndSession(session, $"protocol violation: unexpected {message.KindCase} message");
                        throw Refuse(context, "Session", StatusCode.InvalidArgument, $"Unexpected {message.KindCase} message after registration.");
                }
            }

            EndSession(session, _disposed.IsCancellationRequested ? "the federation is over" : "the client closed the session");
        }
        catch (OperationCanceledException) when (linked.IsCancellationRequested)
        {
            EndSession(session, context.CancellationToken.IsCancellationRequested ? "connection lost" : session.EndReason);
        }
        catch (IOException ex)
        {
            EndSession(session, "connection lost: " + ex.Message);
        }
        finally
        {
            EndSession(session, "connection lost");
            await writer.ConfigureAwait(false);
            await watchdog.ConfigureAwait(false);
            _running.TryRemove(session, out _);
        }
    }

    internal async Task DownloadAsync(DownloadRequest request, IServerStreamWriter<ModelChunk> responses, ServerCallContext context)
    {
        string? identity = Authenticate(context, "DownloadModel");
        PendingTask task = FindTask(request.TaskId, identity, context, "DownloadModel");
        if (task.Payload is not { } payload)
        {
            throw Refuse(context, "DownloadModel", StatusCode.InvalidArgument, $"Task '{request.TaskId}' has no model.");
        }

        using var linked = CancellationTokenSource.CreateLinkedTokenSource(context.CancellationToken, task.Session.Ended);
        foreach (ReadOnlyMemory<byte> slice in payload.Slices(_options.ChunkBytes))
        {
            await responses.WriteAsync(new ModelChunk { Data = Google.Protobuf.UnsafeByteOperations.UnsafeWrap(slice) }, linked.Token).ConfigureAwait(false);
            Interlocked.Add(ref _bytesSent, slice.Length);
        }
    }

    internal async Task<UploadAck> UploadAsync(IAsyncStreamReader<UploadMessage> requests, ServerCallContext context)
    {
        string? identity = Authenticate(context, "UploadResult");
        UploadMessage? first = await ReadWithTimeoutAsync(requests, "result header", context).ConfigureAwait(false);
        if (first is null || first.KindCase != UploadMessage.KindOneofCase.Header)
        {
            throw Refuse(context, "UploadResult", StatusCode.InvalidArgument, "An upload must start with a result header.");
        }

        ResultHeader header = first.Header;
        if (!_tasks.TryGetValue(header.TaskId, out PendingTask? task))
        {
            GrpcLog.StaleResultDiscarded(_logger, header.TaskId, identity ?? "?");
            throw Refuse(context, "UploadResult", StatusCode.FailedPrecondition,
                $"Task '{header.TaskId}' is not pending (late, cancelled or from an old round); the result is discarded.");
        }

        string clientId = task.Session.ClientId;
        if (identity is not null && identity != clientId)
        {
            throw Refuse(context, "UploadResult", StatusCode.PermissionDenied, $"Task '{header.TaskId}' belongs to another client.");
        }

        if (!task.TryBeginUpload())
        {
            throw Refuse(context, "UploadResult", StatusCode.AlreadyExists, $"A result for task '{header.TaskId}' was already sent.");
        }

        try
        {
            object result = task.Kind switch
            {
                TaskKind.Fit => await ReceiveFitAsync(task, header, requests, context).ConfigureAwait(false),
                TaskKind.Evaluate => ReceiveEvaluate(header),
                TaskKind.GetProperties => ConfigConverter.FromWire(header.Properties),
                _ => throw new InvalidDataException($"Unknown task kind {task.Kind}."),
            };
            if (task.Kind != TaskKind.Fit && await ReadWithTimeoutAsync(requests, "end of upload", context).ConfigureAwait(false) is not null)
            {
                throw new InvalidDataException("Only a header may be sent for evaluate and get-properties results.");
            }

            if (!task.Completion.TrySetResult(result))
            {
                (result as IDisposable)?.Dispose();
                GrpcLog.StaleResultDiscarded(_logger, header.TaskId, clientId);
                throw Refuse(context, "UploadResult", StatusCode.FailedPrecondition, $"Task '{header.TaskId}' ended (deadline or cancellation) before its result arrived; the result is discarded.");
            }

            return new UploadAck();
        }
        catch (Exception ex) when (ex is InvalidDataException or ModelFormatException or TimeoutException or ArgumentException or InvalidOperationException)
        {
            string reason = $"{(ex is ModelFormatException ? "malformed model" : "malformed result")}: {ex.Message}";
            GrpcLog.ResultRejected(_logger, header.TaskId, clientId, reason);
            task.TryFail(new ClientFailedException(clientId, "sent a " + reason, ex));
            throw Refuse(context, "UploadResult", ex is TimeoutException ? StatusCode.DeadlineExceeded : StatusCode.InvalidArgument, reason);
        }
        catch (RpcException ex)
        {
            // Refused by gRPC itself (message too large, stream reset) or by us above; either way the task is over.
            task.TryFail(new ClientFailedException(clientId, $"the upload failed: {ex.Status.StatusCode} {ex.Status.Detail}", ex));
            throw;
        }
        catch (Exception ex)
        {
            task.TryFail(new ClientFailedException(clientId, "the upload failed: " + ex.Message, ex));
            throw;
        }
    }

    private async Task<FitResult> ReceiveFitAsync(PendingTask task, ResultHeader header, IAsyncStreamReader<UploadMessage> requests, ServerCallContext context)
    {
        if (header.ExampleCount < 0)
        {
            throw new InvalidDataException($"The example count {header.ExampleCount} is negative.");
        }

        if (header.ModelBytes <= 0 || header.ModelBytes > _options.MaxModelBytes)
        {
            throw new InvalidDataException($"The announced model size {header.ModelBytes} bytes is outside 1..{_options.MaxModelBytes} (MaxModelBytes).");
        }

        ConfigRecord metrics = ConfigConverter.FromWire(header.Metrics);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(context.CancellationToken, task.Session.Ended);
        await _uploads.WaitAsync(linked.Token).ConfigureAwait(false);
        bool handedOver = false;
        try
        {
            var stream = new ChunkReadStream(
                async ct => await requests.MoveNext(ct).ConfigureAwait(false)
                    ? requests.Current.KindCase == UploadMessage.KindOneofCase.Chunk
                        ? requests.Current.Chunk.Memory
                        : throw new InvalidDataException($"Unexpected {requests.Current.KindCase} in the middle of an upload.")
                    : (ReadOnlyMemory<byte>?)null,
                header.ModelBytes,
                _options.MessageTimeout,
                "uploaded model");
            ModelParameters parameters = await _options.Serializer.DeserializeAsync(stream, header.ModelBytes, linked.Token).ConfigureAwait(false);
            try
            {
                await stream.EnsureCompleteAsync(linked.Token).ConfigureAwait(false);
            }
            catch
            {
                parameters.Dispose();
                throw;
            }

            Interlocked.Add(ref _bytesReceived, stream.Received);
            var result = new FitResult(parameters, header.ExampleCount, metrics);
            result.OnDisposed(() => _uploads.Release());
            handedOver = true;
            return result;
        }
        finally
        {
            if (!handedOver)
            {
                _uploads.Release();
            }
        }
    }

    private static EvaluateResult ReceiveEvaluate(ResultHeader header)
    {
        if (header.ExampleCount < 0)
        {
            throw new InvalidDataException($"The example count {header.ExampleCount} is negative.");
        }

        return new EvaluateResult(header.Loss, header.ExampleCount, ConfigConverter.FromWire(header.Metrics));
    }

    private ChunkedPayload GetPayload(ModelParameters parameters, int round, TaskKind kind)
    {
        Lazy<ChunkedPayload> payload;
        lock (_gate)
        {
            var entry = _payloads.FirstOrDefault(e => ReferenceEquals(e.Parameters, parameters) && e.Round == round && e.Kind == kind);
            if (entry.Payload is null)
            {
                entry = (parameters, round, kind, new Lazy<ChunkedPayload>(() =>
                {
                    var buffer = new ChunkedPayload(_options.ChunkBytes);
                    _options.Serializer.Serialize(parameters, buffer);
                    return buffer.Complete();
                }));
                _payloads.AddFirst(entry);
                while (_payloads.Count > PayloadCacheSize)
                {
                    _payloads.RemoveLast();
                }
            }

            payload = entry.Payload;
        }

        return payload.Value;
    }

    private async Task WriteOutboundAsync(ClientSession session, IServerStreamWriter<ServerMessage> responses, CancellationToken cancellationToken)
    {
        try
        {
            await foreach (ServerMessage message in session.Outbound.Reader.ReadAllAsync(cancellationToken).ConfigureAwait(false))
            {
                await responses.WriteAsync(message, cancellationToken).ConfigureAwait(false);
            }

            // The queue was completed: the session ended, or the federation is over and the shutdown notice is out. In
            // the latter case give the client a moment to close its side first (it does so on the notice), so the call
            // ends cleanly instead of being reset with the notice still in flight.
            if (_disposed.IsCancellationRequested && !session.IsEnded)
            {
                _ = Task.Delay(ShutdownGrace, _time, CancellationToken.None).ContinueWith(_ => EndSession(session, "the federation is over"), TaskScheduler.Default);
            }
            else
            {
                EndSession(session, session.EndReason);
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException or InvalidOperationException)
        {
            EndSession(session, "connection lost while sending");
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
                    EndSession(session, $"no heartbeat for {silent.TotalSeconds:0.0} s");
                    return;
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    private void EndSession(ClientSession session, string reason)
    {
        bool first = !session.IsEnded;
        session.End(reason);
        lock (_gate)
        {
            if (_sessions.TryGetValue(session.ClientId, out ClientSession? current) && ReferenceEquals(current, session))
            {
                _sessions.TryRemove(session.ClientId, out _);
            }
        }

        foreach (PendingTask task in session.Tasks.Values)
        {
            task.TryFail(new ClientFailedException(session.ClientId, $"its connection ended: {session.EndReason}."));
        }

        if (first)
        {
            GrpcLog.ClientDisconnected(_logger, session.ClientId, session.SessionId, session.EndReason);
        }
    }

    private PendingTask FindTask(string taskId, string? identity, ServerCallContext context, string call)
    {
        if (!_tasks.TryGetValue(taskId, out PendingTask? task))
        {
            throw Refuse(context, call, StatusCode.NotFound, $"Task '{taskId}' is not pending (late, cancelled or from an old round).");
        }

        if (identity is not null && identity != task.Session.ClientId)
        {
            throw Refuse(context, call, StatusCode.PermissionDenied, $"Task '{taskId}' belongs to another client.");
        }

        return task;
    }

    private string? Authenticate(ServerCallContext context, string call)
    {
        try
        {
            return _authenticator.Authenticate(context);
        }
        catch (RpcException ex)
        {
            throw Refuse(context, call, ex.StatusCode, ex.Status.Detail);
        }
    }

    private async Task<T?> ReadWithTimeoutAsync<T>(IAsyncStreamReader<T> reader, string what, ServerCallContext context)
        where T : class
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(context.CancellationToken);
        cts.CancelAfter(_options.MessageTimeout);
        try
        {
            return await reader.MoveNext(cts.Token).ConfigureAwait(false) ? reader.Current : null;
        }
        catch (OperationCanceledException) when (!context.CancellationToken.IsCancellationRequested)
        {
            throw Refuse(context, "read", StatusCode.DeadlineExceeded, $"No {what} arrived within {_options.MessageTimeout.TotalSeconds:0.#} s.");
        }
    }

    private RpcException Refuse(ServerCallContext context, string call, StatusCode status, string reason)
    {
        Interlocked.Increment(ref _refusedCalls);
        GrpcLog.CallRefused(_logger, call, context.Peer, status.ToString(), reason);
        return new RpcException(new Status(status, reason));
    }
}
