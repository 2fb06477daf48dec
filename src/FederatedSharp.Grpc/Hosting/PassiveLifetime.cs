namespace FederatedSharp.Grpc.Hosting;

/// <summary>
/// The lifetime of a host that a library starts inside someone else's process: it takes no process signals
/// (Ctrl+C, SIGTERM), which belong to the application, and stops when its owner disposes it.
/// </summary>
internal sealed class PassiveLifetime : Microsoft.Extensions.Hosting.IHostLifetime
{
    public Task WaitForStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
