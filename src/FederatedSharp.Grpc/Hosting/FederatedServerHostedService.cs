using FederatedSharp.Grpc.Diagnostics;
using FederatedSharp.Server;
using FederatedSharp.Transport;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace FederatedSharp.Grpc.Hosting;

/// <summary>
/// Runs the application's <see cref="FederatedServer"/> once the host has started (so the gRPC endpoint is listening
/// before the first round waits for clients), and stops the application when the federation ends unless
/// <see cref="FederationHostingOptions.StopApplicationWhenDone"/> is false. Registered by <c>AddFederatedServerHostedService</c>.
/// </summary>
public sealed class FederatedServerHostedService : BackgroundService
{
    private readonly FederatedServer _server;
    private readonly ITransport? _transport;
    private readonly IHostApplicationLifetime _lifetime;
    private readonly FederationHostingOptions _options;
    private readonly IProgress<RoundReport>? _progress;
    private readonly ILogger _logger;
    private readonly TaskCompletionSource<FederationResult> _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Creates the service (the container does).</summary>
    /// <param name="server">The federation to run.</param>
    /// <param name="lifetime">The application's lifetime.</param>
    /// <param name="options">Hosting settings.</param>
    /// <param name="progress">Receives each round's report; null for none.</param>
    /// <param name="logger">Logger; null for none.</param>
    /// <param name="transport">The container's transport, ended (clients are told the federation is over) when the run ends; null for none.</param>
    public FederatedServerHostedService(FederatedServer server, IHostApplicationLifetime lifetime, IOptions<FederationHostingOptions> options, IProgress<RoundReport>? progress = null, ILogger<FederatedServerHostedService>? logger = null, ITransport? transport = null)
    {
        ArgumentNullException.ThrowIfNull(server);
        ArgumentNullException.ThrowIfNull(lifetime);
        ArgumentNullException.ThrowIfNull(options);
        _server = server;
        _lifetime = lifetime;
        _options = options.Value;
        _progress = progress;
        _transport = transport;
        _logger = (ILogger?)logger ?? NullLogger.Instance;
    }

    /// <summary>Completes with the federation's result, or faults with the reason it failed (cancelled when the application stopped first). The service owns the result.</summary>
    public Task<FederationResult> Completion => _completion.Task;

    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            await WhenStartedAsync(stoppingToken).ConfigureAwait(false);
            FederationResult result = await _server.RunAsync(_progress, stoppingToken).ConfigureAwait(false);
            _completion.TrySetResult(result);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            _completion.TrySetCanceled(stoppingToken);
        }
        catch (Exception ex)
        {
            GrpcLog.HostedFederationFailed(_logger, ex);
            _completion.TrySetException(ex);
        }

        // The federation is over whatever the host does next: connected clients are told now, not at host shutdown.
        if (_transport is not null)
        {
            await _transport.DisposeAsync().ConfigureAwait(false);
        }

        if (_options.StopApplicationWhenDone)
        {
            _lifetime.StopApplication();
        }
    }

    /// <inheritdoc />
    public override void Dispose()
    {
        if (_completion.Task.IsCompletedSuccessfully)
        {
            _completion.Task.Result.Dispose();
        }

        base.Dispose();
    }

    private Task WhenStartedAsync(CancellationToken stoppingToken)
    {
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        CancellationTokenRegistration a = _lifetime.ApplicationStarted.Register(() => started.TrySetResult());
        CancellationTokenRegistration b = stoppingToken.Register(() => started.TrySetCanceled(stoppingToken));
        return started.Task.ContinueWith(
            t =>
            {
                a.Dispose();
                b.Dispose();
                return t;
            },
            CancellationToken.None,
            TaskContinuationOptions.ExecuteSynchronously,
            TaskScheduler.Default).Unwrap();
    }
}
