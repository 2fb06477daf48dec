using System.Collections.Concurrent;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using FederatedSharp.Grpc.Client;
using FederatedSharp.Grpc.Coordination;
using FederatedSharp.Plans;
using Grpc.Core;
using Grpc.Net.Client;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace FederatedSharp.Node;

/// <summary>The coordinator refused this node for good (revoked, or its certificate is not valid there).</summary>
public sealed class NodeRefusedException : Exception
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">Why.</param>
    /// <param name="innerException">The call that was refused.</param>
    public NodeRefusedException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

/// <summary>
/// The node's service: it connects out to the coordinator with its certificate, decides every job it is offered with
/// its <see cref="JobGate"/> (the site's approvals and policy), and joins the rounds of the jobs it accepted. It
/// reconnects with backoff after a network failure and stops for good when the coordinator refuses it.
/// </summary>
public sealed partial class NodeAgent
{
    private readonly NodeHome _home;
    private readonly Uri _coordinator;
    private readonly ILoggerFactory _loggers;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly JobGate _gate;
    private readonly ConcurrentDictionary<string, PlanClient> _accepted = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, (CancellationTokenSource Stop, Task Done)> _runs = new(StringComparer.Ordinal);
    private readonly ConcurrentQueue<string> _finished = new();
    private int _connected;

    /// <summary>Creates the agent.</summary>
    /// <param name="home">The node's home (enrolled: it holds a certificate).</param>
    /// <param name="loggerFactory">Logging (default: none).</param>
    /// <param name="timeProvider">The clock (default: the home's).</param>
    /// <exception cref="InvalidOperationException">The node has not enrolled with a coordinator.</exception>
    public NodeAgent(NodeHome home, ILoggerFactory? loggerFactory = null, TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(home);
        _home = home;
        _coordinator = new Uri(home.Identity.Coordinator ?? throw new InvalidOperationException("This node has no coordinator: enrol it first (fedsharp node enrol)."));
        _loggers = loggerFactory ?? NullLoggerFactory.Instance;
        _logger = _loggers.CreateLogger<NodeAgent>();
        _time = timeProvider ?? home.TimeProvider;
        _gate = new JobGate(home, _loggers.CreateLogger<JobGate>());
    }

    /// <summary>Whether the control stream is up.</summary>
    public bool IsConnected => Volatile.Read(ref _connected) == 1;

    /// <summary>Jobs whose rounds the node has finished (or left), in order.</summary>
    public IReadOnlyCollection<string> FinishedJobs => _finished;

    /// <summary>Runs until cancelled, or until the coordinator refuses the node.</summary>
    /// <param name="cancellationToken">Stops the node.</param>
    /// <returns>A task that ends when the node stops.</returns>
    /// <exception cref="NodeRefusedException">The coordinator refused this node (revoked or not enrolled there).</exception>
    public async Task RunAsync(CancellationToken cancellationToken = default)
    {
        TimeSpan delay = TimeSpan.FromMilliseconds(500);
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                await SessionAsync(cancellationToken).ConfigureAwait(false);
                delay = TimeSpan.FromMilliseconds(500);
            }
            catch (RpcException e) when (cancellationToken.IsCancellationRequested)
            {
                StopAllRuns();
                throw new OperationCanceledException("The node was stopped.", e, cancellationToken);
            }
            catch (RpcException e) when (e.StatusCode is StatusCode.PermissionDenied or StatusCode.Unauthenticated)
            {
                StopAllRuns();
                await _home.Audit.AppendAsync("refused_by_coordinator", null, null, null, null, e.Status.Detail, CancellationToken.None).ConfigureAwait(false);
                throw new NodeRefusedException($"The coordinator refused node '{_home.Identity.Name}': {e.Status.Detail}", e);
            }
            catch (Exception e) when (e is RpcException or HttpRequestException or IOException && !cancellationToken.IsCancellationRequested)
            {
                Log.Disconnected(_logger, _coordinator, delay, e.Message);
            }
            finally
            {
                Volatile.Write(ref _connected, 0);
            }

            await Task.Delay(delay, _time, cancellationToken).ConfigureAwait(false);
            delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, TimeSpan.FromSeconds(30).Ticks));
        }

        cancellationToken.ThrowIfCancellationRequested();
    }

    private async Task SessionAsync(CancellationToken cancellationToken)
    {
        using X509Certificate2 certificate = NodeCredentials.LoadClientCertificate(_home);
        using X509Certificate2 authority = NodeCredentials.LoadAuthority(_home);
        using GrpcChannel channel = CoordinatorChannel.Create(_coordinator, authority, certificate);
        using var call = new Grpc.Coordination.Coordinator.CoordinatorClient(channel).Connect(cancellationToken: cancellationToken);
        var hello = new NodeHello { ProtocolVersion = 1, PolicyJson = JsonSerializer.Serialize(_home.LoadPolicy(), NodeJson.Options) };
        hello.Datasets.AddRange(_home.Datasets.List().Select(d => d.Name));
        var writeLock = new SemaphoreSlim(1, 1);
        async Task Send(NodeMessage message)
        {
            await writeLock.WaitAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                await call.RequestStream.WriteAsync(message, cancellationToken).ConfigureAwait(false);
            }
            finally
            {
                writeLock.Release();
            }
        }

        await Send(new NodeMessage { Hello = hello }).ConfigureAwait(false);
        Volatile.Write(ref _connected, 1);
        Log.Connected(_logger, _coordinator);
        using var beat = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        Task heartbeats = HeartbeatAsync(Send, beat.Token);
        try
        {
            while (await call.ResponseStream.MoveNext(cancellationToken).ConfigureAwait(false))
            {
                await HandleAsync(call.ResponseStream.Current, Send, certificate, authority, cancellationToken).ConfigureAwait(false);
            }
        }
        finally
        {
            await beat.CancelAsync().ConfigureAwait(false);
            try
            {
                await heartbeats.ConfigureAwait(false);
            }
            catch (Exception e) when (e is OperationCanceledException or RpcException or InvalidOperationException)
            {
                // The stream is gone; the next session starts its own heartbeats.
            }
        }
    }

    private async Task HeartbeatAsync(Func<NodeMessage, Task> send, CancellationToken cancellationToken)
    {
        for (long sequence = 1; !cancellationToken.IsCancellationRequested; sequence++)
        {
            await Task.Delay(TimeSpan.FromSeconds(15), _time, cancellationToken).ConfigureAwait(false);
            await send(new NodeMessage { Heartbeat = new NodeHeartbeat { Sequence = sequence } }).ConfigureAwait(false);
        }
    }

    private async Task HandleAsync(CoordinatorMessage message, Func<NodeMessage, Task> send, X509Certificate2 certificate, X509Certificate2 authority, CancellationToken cancellationToken)
    {
        switch (message.KindCase)
        {
            case CoordinatorMessage.KindOneofCase.Offer:
                Grpc.Coordination.JobOffer offer = message.Offer;
                // A job offered again while it runs here (the coordinator restarted): the old run ends before the new decision.
                await StopRunAsync(offer.JobId).ConfigureAwait(false);
                (JobDecision decision, PlanClient? client) = await _gate.DecideAsync(new Node.JobOffer(offer.JobId, offer.PlanJson, [.. offer.Datasets], offer.Researcher), cancellationToken).ConfigureAwait(false);
                if (client is not null)
                {
                    if (_accepted.TryRemove(offer.JobId, out PlanClient? previous))
                    {
                        previous.Dispose();
                    }

                    _accepted[offer.JobId] = client;
                }

                await send(new NodeMessage { Answer = Answer(decision) }).ConfigureAwait(false);
                break;
            case CoordinatorMessage.KindOneofCase.Start when _accepted.TryGetValue(message.Start.JobId, out PlanClient? accepted):
                StartRun(message.Start.JobId, accepted, certificate, authority);
                break;
            case CoordinatorMessage.KindOneofCase.Stop:
                await StopRunAsync(message.Stop.JobId).ConfigureAwait(false);
                break;
        }
    }

    private void StartRun(string jobId, PlanClient client, X509Certificate2 certificate, X509Certificate2 authority)
    {
        if (_runs.ContainsKey(jobId))
        {
            return;
        }

        var cts = new CancellationTokenSource();
        var options = new GrpcClientOptions
        {
            ServerAddress = _coordinator,
            ClientId = _home.Identity.Name,
            ClientCertificate = X509CertificateLoader.LoadPkcs12(certificate.Export(X509ContentType.Pkcs12), null),
            TrustedCertificateAuthority = X509CertificateLoader.LoadCertificate(authority.RawData),
        };
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Task done = Task.Run(async () =>
        {
            await started.Task.ConfigureAwait(false);
            string outcome = "run_finished";
            string detail = "the job's rounds are over";
            try
            {
                await new GrpcClientRunner(options, _loggers.CreateLogger<GrpcClientRunner>(), _time).RunAsync(client, cts.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
            }
            catch (Exception e)
            {
                (outcome, detail) = ("run_failed", e.Message);
            }
            finally
            {
                _runs.TryRemove(new KeyValuePair<string, (CancellationTokenSource, Task)>(jobId, _runs.GetValueOrDefault(jobId)));
                if (_accepted.TryGetValue(jobId, out PlanClient? used) && ReferenceEquals(used, client) && _accepted.TryRemove(new KeyValuePair<string, PlanClient>(jobId, client)))
                {
                    client.Dispose();
                }

                options.ClientCertificate.Dispose();
                options.TrustedCertificateAuthority.Dispose();
                await _home.Audit.AppendAsync(outcome, jobId, client.Plan.Hash, null, null, detail, CancellationToken.None).ConfigureAwait(false);
                _finished.Enqueue(jobId);
            }
        });
        _runs[jobId] = (cts, done);
        started.SetResult();
    }

    private async Task StopRunAsync(string jobId)
    {
        if (_runs.TryRemove(jobId, out (CancellationTokenSource Stop, Task Done) run))
        {
            await run.Stop.CancelAsync().ConfigureAwait(false);
            await run.Done.ConfigureAwait(false);
            run.Stop.Dispose();
        }

        if (_accepted.TryRemove(jobId, out PlanClient? client))
        {
            client.Dispose();
        }
    }

    private void StopAllRuns()
    {
        foreach ((CancellationTokenSource stop, Task _) in _runs.Values)
        {
            stop.Cancel();
        }
    }

    private static JobAnswer Answer(JobDecision decision) => new()
    {
        JobId = decision.JobId,
        Outcome = decision.Outcome switch
        {
            JobOutcome.Accepted => "accepted",
            JobOutcome.PendingApproval => "pending_approval",
            _ => "refused",
        },
        Reason = decision.Reason,
        PlanHash = decision.PlanHash ?? "",
        Dataset = decision.Dataset ?? "",
        AllowExport = decision.AllowExport,
    };

    private static partial class Log
    {
        [LoggerMessage(EventId = 5111, Level = LogLevel.Information, Message = "Connected to the coordinator {Coordinator}")]
        public static partial void Connected(ILogger logger, Uri coordinator);

        [LoggerMessage(EventId = 5112, Level = LogLevel.Warning, Message = "Lost the coordinator {Coordinator}; reconnecting in {Delay}: {Reason}")]
        public static partial void Disconnected(ILogger logger, Uri coordinator, TimeSpan delay, string reason);
    }
}
