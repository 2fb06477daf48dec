using System.Diagnostics;
using FederatedSharp.Clients;
using FederatedSharp.Grpc.DataChannel;
using FederatedSharp.Grpc.Protocol;
using FederatedSharp.Grpc.Streaming;
using FederatedSharp.Parameters;
using FederatedSharp.Transport;
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
    private readonly GrpcFederationOptions _options;
    private readonly SessionRegistry _sessions;
    private readonly GrpcCallGuard _guard;
    private readonly DataChannelServer? _dataChannel;

    /// <summary>Creates the transport.</summary>
    /// <param name="options">Settings.</param>
    /// <param name="logger">Logger; null for none.</param>
    /// <param name="timeProvider">Clock of heartbeats, read deadlines and the shutdown grace; null for the system clock.</param>
    /// <exception cref="ArgumentException">The options are invalid.</exception>
    public GrpcFederationTransport(GrpcFederationOptions options, ILogger<GrpcFederationTransport>? logger = null, TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _options = options;
        ILogger log = (ILogger?)logger ?? NullLogger.Instance;
        TimeProvider time = timeProvider ?? TimeProvider.System;
        _guard = new GrpcCallGuard(options, new ClientAuthenticator(options), log, time);
        _sessions = new SessionRegistry(options, log, time, _guard);
        Payloads = new PayloadCache(options, _sessions, _guard);
        Uploads = new UploadReceiver(options, log, _sessions, _guard, time);
        if (options.DataChannel.Enabled)
        {
            _dataChannel = new DataChannelServer(options, _sessions, Payloads, Uploads, _guard, log, time);
            _sessions.DataPort = _dataChannel.AdvertisedPort;
        }
    }

    /// <summary>The port the data channel listens on, or null when it is off.</summary>
    public int? DataPort => _dataChannel?.Port;

    /// <summary>The sessions, for the service's session call.</summary>
    internal SessionRegistry Sessions => _sessions;

    /// <summary>The serialized models, for the service's download call.</summary>
    internal PayloadCache Payloads { get; }

    /// <summary>The results, for the service's upload call.</summary>
    internal UploadReceiver Uploads { get; }

    /// <summary>The settings.</summary>
    public GrpcFederationOptions Options => _options;

    /// <summary>Model bytes streamed to clients.</summary>
    public long BytesSent => Payloads.BytesSent;

    /// <summary>Model bytes received from clients.</summary>
    public long BytesReceived => Uploads.BytesReceived;

    /// <summary>Calls refused (authentication, limits, malformed or stale messages).</summary>
    public long RefusedCalls => _guard.RefusedCalls;

    /// <inheritdoc />
    public IReadOnlyList<string> GetAvailableClients() => _sessions.ClientIds;

    /// <inheritdoc />
    public Task WaitForClientsAsync(int minimum, CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_sessions.IsShutDown, this);
        return _sessions.Waiters.WaitAsync(minimum, cancellationToken);
    }

    /// <summary>
    /// Revokes a client while the federation runs: its live session ends now (its pending tasks fail with the reason)
    /// and every later registration under its id is refused with PERMISSION_DENIED.
    /// </summary>
    /// <param name="clientId">The client.</param>
    /// <param name="reason">Why, for its failures and the log.</param>
    public void Revoke(string clientId, string reason)
    {
        ArgumentException.ThrowIfNullOrEmpty(clientId);
        ArgumentNullException.ThrowIfNull(reason);
        _sessions.Revoke(clientId, reason);
    }

    /// <inheritdoc />
    public IClientConnection GetConnection(string clientId)
    {
        ArgumentNullException.ThrowIfNull(clientId);
        if (!_sessions.TryGetSession(clientId, out _))
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
        if (_sessions.IsShutDown)
        {
            return;
        }

        Payloads.Clear();
        await _sessions.ShutdownAsync().ConfigureAwait(false);
        if (_dataChannel is not null)
        {
            await _dataChannel.DisposeAsync().ConfigureAwait(false);
        }
    }

    internal async Task<object> RunTaskAsync(string clientId, TaskKind kind, int round, ModelParameters? parameters, ConfigRecord config, CancellationToken cancellationToken, string queryName = "")
    {
        ObjectDisposedException.ThrowIf(_sessions.IsShutDown, this);
        if (!_sessions.TryGetSession(clientId, out ClientSession? session))
        {
            throw new ClientFailedException(clientId, "it is not connected.");
        }

        // Serialized on first use: a data-channel client streams the model itself, a gRPC client gets the shared chunks.
        Func<ChunkedPayload>? serialize = parameters is null ? null : () => Payloads.Get(parameters, round, kind);
        long modelBytes = parameters is null ? 0 : _options.Serializer.TryGetSerializedLength(parameters, out long length) ? length : serialize!().Length;
        var task = new PendingTask(Guid.NewGuid().ToString("N"), session, kind, round, parameters, modelBytes, serialize);
        _sessions.AddTask(task);
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
                    ModelBytes = modelBytes,
                    QueryName = queryName,
                    Traceparent = Activity.Current?.Id ?? "",
                    Tracestate = Activity.Current?.TraceStateString ?? "",
                },
            });
            using CancellationTokenRegistration registration = cancellationToken.Register(() =>
            {
                if (task.Completion.TrySetCanceled(cancellationToken))
                {
                    task.Session.Send(new ServerMessage { Cancel = new CancelTask { TaskId = task.TaskId, Reason = "cancelled by the server (deadline or round over)" } });
                }
            });
            return await task.Completion.Task.ConfigureAwait(false);
        }
        finally
        {
            _sessions.RemoveTask(task);
        }
    }

    internal ConfigRecord GetRegisteredProperties(string clientId) =>
        _sessions.TryGetSession(clientId, out ClientSession? session) ? session.Properties : throw new ClientFailedException(clientId, "it is not connected.");
}
