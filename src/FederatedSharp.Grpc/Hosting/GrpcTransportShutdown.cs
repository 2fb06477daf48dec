using FederatedSharp.Grpc.Server;
using Microsoft.Extensions.Hosting;

namespace FederatedSharp.Grpc.Hosting;

/// <summary>
/// Ends the federation for connected clients as soon as the application begins to stop, before any hosted service
/// (Kestrel included) stops: clients get the shutdown notice and end their sessions, so Kestrel's drain finishes at
/// once instead of waiting out the host's shutdown timeout while clients hang on and then reconnect.
/// </summary>
internal sealed class GrpcTransportShutdown(GrpcFederationTransport transport) : IHostedLifecycleService
{
    public Task StartingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppingAsync(CancellationToken cancellationToken) => transport.DisposeAsync().AsTask();

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
