using FederatedSharp.Diagnostics;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace HeartDisease;

/// <summary>--otel-console: FederatedSharp's spans and metrics through the OpenTelemetry SDK's console exporter.</summary>
public static class OpenTelemetryConsole
{
    /// <summary>Starts exporting; dispose the result to flush the metrics at the end of the run.</summary>
    public static IDisposable Start(string serviceName)
    {
        ResourceBuilder resource = ResourceBuilder.CreateDefault().AddService(serviceName);
        TracerProvider traces = Sdk.CreateTracerProviderBuilder().SetResourceBuilder(resource).AddSource(FederatedSharpTelemetry.Name).AddConsoleExporter().Build();
        MeterProvider metrics = Sdk.CreateMeterProviderBuilder().SetResourceBuilder(resource).AddMeter(FederatedSharpTelemetry.Name).AddConsoleExporter().Build();
        return new Both(traces, metrics);
    }

    private sealed class Both(TracerProvider traces, MeterProvider metrics) : IDisposable
    {
        public void Dispose()
        {
            metrics.Dispose();
            traces.Dispose();
        }
    }
}
