using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace GrpcFederation;

/// <summary>--otel-console true: FederatedSharp's traces and metrics through the OpenTelemetry SDK's console exporter.</summary>
public static class Telemetry
{
    public static void AddIfRequested(IServiceCollection services, FederationSettings settings, string serviceName)
    {
        if (!settings.OpenTelemetryConsole)
        {
            return;
        }

        services.AddOpenTelemetry()
            .ConfigureResource(r => r.AddService(serviceName))
            .WithTracing(t => t.AddSource(FederatedSharp.Diagnostics.FederatedSharpTelemetry.Name, FederatedSharp.Grpc.Diagnostics.GrpcTelemetry.Name).AddConsoleExporter())
            .WithMetrics(m => m.AddMeter(FederatedSharp.Diagnostics.FederatedSharpTelemetry.Name, FederatedSharp.Grpc.Diagnostics.GrpcTelemetry.Name).AddConsoleExporter());
    }
}
