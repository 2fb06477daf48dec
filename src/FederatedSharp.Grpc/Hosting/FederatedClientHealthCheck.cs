using FederatedSharp.Grpc.Client;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace FederatedSharp.Grpc.Hosting;

/// <summary>The hosted client's health: healthy while its session is registered with the server, unhealthy while it connects or reconnects.</summary>
internal sealed class FederatedClientHealthCheck(GrpcClientRunner runner) : IHealthCheck
{
    public const string Name = "federated-client";

    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var data = new Dictionary<string, object> { ["sessions"] = runner.Sessions, ["completed_tasks"] = runner.CompletedTasks };
        return Task.FromResult(runner.IsConnected
            ? HealthCheckResult.Healthy("The session with the server is registered.", data)
            : HealthCheckResult.Unhealthy("No session with the server (connecting or reconnecting).", data: data));
    }
}
