using FederatedSharp.Clients;
using FederatedSharp.Grpc.Client;
using FederatedSharp.Grpc.Diagnostics;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace FederatedSharp.Grpc.Hosting;

/// <summary>
/// Runs the application's <see cref="IClient"/> through a <see cref="GrpcClientRunner"/> for the life of the host:
/// it reconnects after lost connections, closes its session when the application stops, and stops the application
/// when the server ends the federation (unless <see cref="FederationHostingOptions.StopApplicationWhenDone"/> is
/// false) or refuses this client. Registered by <c>AddFederatedGrpcClient</c>.
/// </summary>
public sealed class FederatedGrpcClientHostedService : BackgroundService
{
    private readonly IClient _client;
    private readonly IHostApplicationLifetime _lifetime;
    private readonly FederationHostingOptions _options;
    private readonly ILogger _logger;
    private readonly TaskCompletionSource _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Creates the service (the container does).</summary>
    /// <param name="runner">The runner.</param>
    /// <param name="client">The local client.</param>
    /// <param name="lifetime">The application's lifetime.</param>
    /// <param name="options">Hosting settings.</param>
    /// <param name="logger">Logger; null for none.</param>
    public FederatedGrpcClientHostedService(GrpcClientRunner runner, IClient client, IHostApplicationLifetime lifetime, IOptions<FederationHostingOptions> options, ILogger<FederatedGrpcClientHostedService>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(runner);
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(lifetime);
        ArgumentNullException.ThrowIfNull(options);
        Runner = runner;
        _client = client;
        _lifetime = lifetime;
        _options = options.Value;
        _logger = (ILogger?)logger ?? NullLogger.Instance;
    }

    /// <summary>The runner (its session count, state and connection).</summary>
    public GrpcClientRunner Runner { get; }

    /// <summary>Completes when the server ended the federation; faults when the server refused this client or the runner gave up; cancelled when the application stopped first.</summary>
    public Task Completion => _completion.Task;

    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            await Runner.RunAsync(_client, stoppingToken).ConfigureAwait(false);
            _completion.TrySetResult();
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            _completion.TrySetCanceled(stoppingToken);
            return;
        }
        catch (Exception ex)
        {
            GrpcLog.HostedClientFailed(_logger, ex);
            _completion.TrySetException(ex);
        }

        if (_options.StopApplicationWhenDone)
        {
            _lifetime.StopApplication();
        }
    }
}
