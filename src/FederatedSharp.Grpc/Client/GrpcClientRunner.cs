using System.Collections.Concurrent;
using System.Net.Http;
using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using FederatedSharp.Clients;
using FederatedSharp.Grpc.DataChannel;
using FederatedSharp.Grpc.Diagnostics;
using FederatedSharp.Grpc.Protocol;
using FederatedSharp.Grpc.Security;
using FederatedSharp.Grpc.Streaming;
using FederatedSharp.Parameters;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace FederatedSharp.Grpc.Client;

/// <summary>
/// Runs an <see cref="IClient"/> as a participant of a networked federation: it dials out to the server (no inbound
/// port needed at the hospital), registers, sends heartbeats, and for every instruction downloads the model, runs
/// the client and uploads the result. After a lost connection it reconnects with exponential backoff and jitter and
/// registers again; work in progress for the old connection is abandoned (the server has already failed that task, so
/// nothing is counted twice). It returns when the server ends the federation or the token is cancelled.
/// </summary>
public sealed partial class GrpcClientRunner
{
    private static readonly StatusCode[] PermanentStatuses =
        [StatusCode.Unauthenticated, StatusCode.PermissionDenied, StatusCode.FailedPrecondition, StatusCode.ResourceExhausted, StatusCode.Unimplemented];

    private readonly GrpcClientOptions _options;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly ConcurrentDictionary<string, (CancellationTokenSource Cancel, Task Work)> _running = new(StringComparer.Ordinal);
    private SessionLink? _link;
    private int _sessions;
    private int _connected;
    private int _completedTasks;

    /// <summary>Creates a runner.</summary>
    /// <param name="options">Settings.</param>
    /// <param name="logger">Logger; null for none.</param>
    /// <param name="timeProvider">The clock of reconnection backoff, heartbeats and the closing grace; null for the system clock.</param>
    /// <exception cref="ArgumentException">The options are invalid.</exception>
    public GrpcClientRunner(GrpcClientOptions options, ILogger<GrpcClientRunner>? logger = null, TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _options = options;
        _logger = (ILogger?)logger ?? NullLogger.Instance;
        _time = timeProvider ?? TimeProvider.System;
        State = options.State ?? new ClientState(options.ClientId);
    }

    /// <summary>The client's persistent state, passed to every task (<see cref="GrpcClientOptions.State"/>, or the runner's own).</summary>
    public ClientState State { get; }

    /// <summary>How many times this runner has registered with the server (1 + successful reconnections).</summary>
    public int Sessions => Volatile.Read(ref _sessions);

    /// <summary>True while a session is registered with the server (false while connecting or reconnecting).</summary>
    public bool IsConnected => Volatile.Read(ref _connected) == 1;

    /// <summary>Tasks whose result the server accepted.</summary>
    public int CompletedTasks => Volatile.Read(ref _completedTasks);

    /// <summary>Connects and serves <paramref name="client"/> until the federation ends.</summary>
    /// <param name="client">The local client (training and evaluation on local data).</param>
    /// <param name="cancellationToken">Stops the runner (the connection is closed).</param>
    /// <returns>A task that completes when the server ends the federation.</returns>
    /// <exception cref="FederationAccessDeniedException">The server refused this client permanently.</exception>
    /// <exception cref="OperationCanceledException">The token was cancelled.</exception>
    public async Task RunAsync(IClient client, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(client);
        try
        {
            await ServeAsync(client, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            // Tasks kept across a lost connection (the server resumes them) end with the runner.
            await StopTasksAsync(_running.Keys).ConfigureAwait(false);
        }
    }

    private async Task ServeAsync(IClient client, CancellationToken cancellationToken)
    {
        int failures = 0;
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            string reason;
            try
            {
                bool registered = false;
                if (await RunSessionAsync(client, () => registered = true, cancellationToken).ConfigureAwait(false))
                {
                    return;
                }

                failures = registered ? 0 : failures;
                reason = "the server closed the session";
            }
            catch (RpcException ex) when (cancellationToken.IsCancellationRequested)
            {
                throw new OperationCanceledException("The client runner was stopped.", ex, cancellationToken);
            }
            catch (RpcException ex) when (Array.IndexOf(PermanentStatuses, ex.StatusCode) >= 0)
            {
                throw new FederationAccessDeniedException(ex.StatusCode, ex.Status.Detail, ex);
            }
            catch (Exception ex) when (!cancellationToken.IsCancellationRequested && ex is RpcException or IOException or HttpRequestException or OperationCanceledException or InvalidDataException)
            {
                reason = ex is RpcException rpc ? $"{rpc.StatusCode}: {rpc.Status.Detail}" : ex.Message;
            }

            failures++;
            if (_options.MaxReconnectAttempts is int max && failures > max)
            {
                throw new FederatedException($"Gave up after {max} reconnection attempts to {_options.ServerAddress}: {reason}");
            }

            double backoff = Math.Min(_options.MaxReconnectDelay.TotalSeconds, _options.InitialReconnectDelay.TotalSeconds * Math.Pow(2, failures - 1));
            double delay = backoff * (0.5 + Random.Shared.NextDouble());
            GrpcLog.Reconnecting(_logger, _options.ServerAddress!.ToString(), reason, delay, failures);
            await Task.Delay(TimeSpan.FromSeconds(delay), _time, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>One connection; true when the server ended the federation.</summary>
    private async Task<bool> RunSessionAsync(IClient client, Action onRegistered, CancellationToken cancellationToken)
    {
        using GrpcChannel channel = CreateChannel();
        var api = new Federation.FederationClient(channel);
        Metadata headers = CreateHeaders();
        using var session = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        using AsyncDuplexStreamingCall<ClientMessage, ServerMessage> call = api.Session(headers, cancellationToken: session.Token);
        using var writeLock = new SemaphoreSlim(1, 1);
        Task heartbeat = Task.CompletedTask;
        var link = new SessionLink(call.RequestStream, writeLock);
        bool resumable = false;
        try
        {
            Registered? registered = await RegisterAsync(call, writeLock, session.Token).ConfigureAwait(false);
            if (registered is null)
            {
                return true;
            }

            // With a resume grace the server kept our running tasks for this session; the ones it did not keep are over.
            resumable = registered.ResumeGraceMs > 0;
            await StopTasksAsync(_running.Keys.Except(registered.ResumedTaskIds)).ConfigureAwait(false);
            Volatile.Write(ref _link, link);

            Interlocked.Increment(ref _sessions);
            Volatile.Write(ref _connected, 1);
            onRegistered();
            GrpcLog.Connected(_logger, _options.ServerAddress!.ToString(), _options.ClientId);
            int chunkBytes = Math.Min(_options.ChunkBytes, registered.ChunkBytes > 0 ? registered.ChunkBytes : _options.ChunkBytes);
            IModelTransfer transfer = registered.DataPort > 0 && _options.UseDataChannel
                ? new DataChannelClient(_options, registered.DataPort, Math.Max(64 * 1024, registered.DataWindowBytes), _logger, _time)
                : new GrpcStreamTransfer(api, headers, _options, chunkBytes, _time);
            heartbeat = SendHeartbeatsAsync(call.RequestStream, writeLock, TimeSpan.FromMilliseconds(Math.Max(10, registered.HeartbeatIntervalMs)), session.Token);

            while (await call.ResponseStream.MoveNext(session.Token).ConfigureAwait(false))
            {
                ServerMessage message = call.ResponseStream.Current;
                switch (message.KindCase)
                {
                    case ServerMessage.KindOneofCase.Task:
                        StartTask(message.Task, ct => RunTaskAsync(transfer, client, message.Task, chunkBytes, ct), resumable ? cancellationToken : session.Token);
                        break;
                    case ServerMessage.KindOneofCase.Cancel:
                        if (_running.TryGetValue(message.Cancel.TaskId, out var entry))
                        {
                            try
                            {
                                entry.Cancel.Cancel();
                            }
                            catch (ObjectDisposedException)
                            {
                            }
                        }

                        break;
                    case ServerMessage.KindOneofCase.Shutdown:
                        GrpcLog.ShutdownReceived(_logger, message.Shutdown.Reason);
                        await CloseGracefullyAsync(call, writeLock).ConfigureAwait(false);
                        return true;
                    default:
                        break;
                }
            }

            return false;
        }
        finally
        {
            Volatile.Write(ref _connected, 0);
            Interlocked.CompareExchange(ref _link, null, link);
            await session.CancelAsync().ConfigureAwait(false);

            // Without a resume grace the server has failed this session's tasks: they were cancelled with it.
            await Task.WhenAll((resumable ? [] : _running.Values.Select(r => r.Work)).Append(heartbeat)).ConfigureAwait(false);
        }
    }

    /// <summary>Registers; returns the server's confirmation, or null when the server answered that the federation is over.</summary>
    private async Task<Registered?> RegisterAsync(AsyncDuplexStreamingCall<ClientMessage, ServerMessage> call, SemaphoreSlim writeLock, CancellationToken token)
    {
        await call.RequestStream.WriteAsync(new ClientMessage
        {
            Register = new Register
            {
                ProtocolVersion = GrpcProtocol.Version,
                ClientId = _options.ClientId,
                Properties = ConfigConverter.ToWire(_options.Properties),
                RunningTaskIds = { _running.Keys },
            },
        }, token).ConfigureAwait(false);
        if (!await call.ResponseStream.MoveNext(token).ConfigureAwait(false))
        {
            throw new IOException("The server closed the session before confirming the registration.");
        }

        if (call.ResponseStream.Current.KindCase == ServerMessage.KindOneofCase.Shutdown)
        {
            GrpcLog.ShutdownReceived(_logger, call.ResponseStream.Current.Shutdown.Reason);
            await CloseGracefullyAsync(call, writeLock).ConfigureAwait(false);
            return null;
        }

        if (call.ResponseStream.Current.KindCase != ServerMessage.KindOneofCase.Registered)
        {
            throw new InvalidDataException($"Expected a registration confirmation, got {call.ResponseStream.Current.KindCase}.");
        }

        Registered registered = call.ResponseStream.Current.Registered;
        if (registered.ModelFormat != _options.Serializer.Format)
        {
            throw new RpcException(new Status(StatusCode.FailedPrecondition, $"The server sends models as '{registered.ModelFormat}' but this client's serializer is '{_options.Serializer.Format}'."));
        }

        string uploadFormat = registered.UploadFormat is { Length: > 0 } asked ? asked : registered.ModelFormat;
        if (uploadFormat != _options.Uplink.Format)
        {
            throw new RpcException(new Status(StatusCode.FailedPrecondition, $"The server takes results as '{uploadFormat}' but this client sends '{_options.Uplink.Format}' (GrpcClientOptions.UplinkSerializer)."));
        }

        return registered;
    }

    /// <summary>Runs a task in the background; its entry (and cancellation) is removed when it ends.</summary>
    private void StartTask(TaskInstruction task, Func<CancellationToken, Task> run, CancellationToken lifetime)
    {
        var cancel = CancellationTokenSource.CreateLinkedTokenSource(lifetime);
        Task work = Task.Run(() => run(cancel.Token), CancellationToken.None);
        _running[task.TaskId] = (cancel, work);
        _ = work.ContinueWith(
            _ =>
            {
                if (_running.TryRemove(task.TaskId, out var done))
                {
                    done.Cancel.Dispose();
                }
            },
            CancellationToken.None,
            TaskContinuationOptions.ExecuteSynchronously,
            TaskScheduler.Default);
    }

    /// <summary>Cancels these running tasks and waits for them to end.</summary>
    private async Task StopTasksAsync(IEnumerable<string> taskIds)
    {
        var stopping = new List<Task>();
        foreach (string taskId in taskIds.ToArray())
        {
            if (_running.TryGetValue(taskId, out var entry))
            {
                try
                {
                    await entry.Cancel.CancelAsync().ConfigureAwait(false);
                }
                catch (ObjectDisposedException)
                {
                }

                stopping.Add(entry.Work);
            }
        }

        await Task.WhenAll(stopping).ConfigureAwait(false);
    }

    /// <summary>The session of the moment, where tasks report their errors.</summary>
    private sealed record SessionLink(IClientStreamWriter<ClientMessage> Writer, SemaphoreSlim Lock);

    /// <summary>Closes our side of the session and reads the server's end of it, so the call completes cleanly.</summary>
    private async Task CloseGracefullyAsync(AsyncDuplexStreamingCall<ClientMessage, ServerMessage> call, SemaphoreSlim writeLock)
    {
        using var grace = new CancellationTokenSource(TimeSpan.FromSeconds(5), _time);
        try
        {
            await writeLock.WaitAsync(grace.Token).ConfigureAwait(false);
            try
            {
                await call.RequestStream.CompleteAsync().ConfigureAwait(false);
            }
            finally
            {
                writeLock.Release();
            }

            while (await call.ResponseStream.MoveNext(grace.Token).ConfigureAwait(false))
            {
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or RpcException or IOException or InvalidOperationException)
        {
            // The server is going away anyway.
        }
    }

    private async Task SendHeartbeatsAsync(IClientStreamWriter<ClientMessage> session, SemaphoreSlim writeLock, TimeSpan interval, CancellationToken cancellationToken)
    {
        long sequence = 0;
        using var timer = new PeriodicTimer(interval, _time);
        try
        {
            while (await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false))
            {
                await writeLock.WaitAsync(cancellationToken).ConfigureAwait(false);
                try
                {
                    await session.WriteAsync(new ClientMessage { Heartbeat = new Heartbeat { Sequence = ++sequence } }, cancellationToken).ConfigureAwait(false);
                }
                finally
                {
                    writeLock.Release();
                }
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or RpcException or IOException or InvalidOperationException or ObjectDisposedException)
        {
            // The session ended; the read loop notices and reconnects.
        }
    }

    private Metadata CreateHeaders()
    {
        var headers = new Metadata();
        if (_options.BearerToken is { Length: > 0 } token)
        {
            headers.Add("authorization", "Bearer " + token);
        }

        return headers;
    }

    private GrpcChannel CreateChannel()
    {
        var ssl = new SslClientAuthenticationOptions();
        if (_options.ClientCertificate is { } certificate)
        {
            ssl.ClientCertificates = new X509CertificateCollection { certificate };
        }

        if (_options.TrustedCertificateAuthority is { } authority)
        {
            ssl.RemoteCertificateValidationCallback = FederationCertificates.ServerValidator(authority);
        }

        var handler = new SocketsHttpHandler
        {
            SslOptions = ssl,
            ConnectTimeout = TimeSpan.FromSeconds(15),
            EnableMultipleHttp2Connections = true,
            InitialHttp2StreamWindowSize = 8 * 1024 * 1024,
            KeepAlivePingDelay = TimeSpan.FromSeconds(20),
            KeepAlivePingTimeout = TimeSpan.FromSeconds(20),
            KeepAlivePingPolicy = HttpKeepAlivePingPolicy.WithActiveRequests,
        };
        return GrpcChannel.ForAddress(_options.ServerAddress!, new GrpcChannelOptions
        {
            HttpHandler = handler,
            DisposeHttpClient = true,
            MaxReceiveMessageSize = _options.MaxMessageBytes,
            MaxSendMessageSize = _options.MaxMessageBytes,
        });
    }
}
