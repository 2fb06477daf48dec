using FederatedSharp.Grpc.Server;
using FederatedSharp.Server;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace FederatedSharp.Grpc.Hosting;

/// <summary>
/// The server's health: unhealthy until the application has started listening and once it is stopping; degraded
/// while fewer clients are connected than a round needs (<see cref="FederatedServerOptions.MinAvailableClients"/> of
/// the registered server, else of the options); healthy otherwise.
/// </summary>
internal sealed class FederatedServerHealthCheck(GrpcFederationTransport transport, IHostApplicationLifetime lifetime, IServiceProvider services) : IHealthCheck
{
    public const string Name = "federated-server";

    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        if (!lifetime.ApplicationStarted.IsCancellationRequested || lifetime.ApplicationStopping.IsCancellationRequested)
        {
            return Task.FromResult(HealthCheckResult.Unhealthy("The federation endpoint is not listening (the application is starting or stopping)."));
        }

        int minimum = services.GetService<FederatedServer>()?.Options.MinAvailableClients
            ?? services.GetRequiredService<IOptions<FederatedServerOptions>>().Value.MinAvailableClients;
        int connected = transport.GetAvailableClients().Count;
        var data = new Dictionary<string, object> { ["connected_clients"] = connected, ["min_available_clients"] = minimum };
        return Task.FromResult(connected < minimum
            ? HealthCheckResult.Degraded($"{connected} of the {minimum} clients a round needs are connected.", data: data)
            : HealthCheckResult.Healthy($"Listening; {connected} clients connected.", data));
    }
}
