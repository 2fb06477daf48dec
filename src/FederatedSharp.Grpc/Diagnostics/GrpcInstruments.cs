using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace FederatedSharp.Grpc.Diagnostics;

/// <summary>The gRPC package's one <see cref="Meter"/> and one <see cref="ActivitySource"/>, and every instrument on them.</summary>
internal static class GrpcInstruments
{
    private static readonly string? Version = typeof(GrpcInstruments).Assembly.GetName().Version?.ToString();

    public const string SideTag = "federatedsharp.grpc.side";

    public static readonly KeyValuePair<string, object?> Server = new(SideTag, "server");

    public static readonly KeyValuePair<string, object?> Client = new(SideTag, "client");

    public static ActivitySource ActivitySource { get; } = new(GrpcTelemetry.Name, Version);

    public static Meter Meter { get; } = new(GrpcTelemetry.Name, Version);

    public static Counter<long> BytesSent { get; } = Meter.CreateCounter<long>("federatedsharp.grpc.bytes.sent", "By", "Model bytes sent (models to clients on the server, results on a client).");

    public static Counter<long> BytesReceived { get; } = Meter.CreateCounter<long>("federatedsharp.grpc.bytes.received", "By", "Model bytes received (results on the server, models on a client).");

    public static UpDownCounter<long> ConnectedClients { get; } = Meter.CreateUpDownCounter<long>("federatedsharp.grpc.clients.connected", "{client}", "Clients with a registered session.");

    public static Counter<long> RefusedCalls { get; } = Meter.CreateCounter<long>("federatedsharp.grpc.calls.refused", "{call}", "Calls the server refused (authentication, limits, protocol), by method.");

    /// <summary>Starts a client's span for a task, as a child of the server's span whose context came with the task.</summary>
    public static Activity? StartClientTask(string kind, string traceparent, string tracestate, string clientId, int round)
    {
        ActivityContext.TryParse(traceparent, tracestate, out ActivityContext parent);
        Activity? activity = ActivitySource.StartActivity("federatedsharp.client." + kind, ActivityKind.Server, parent);
        activity?.SetTag("federatedsharp.client.id", clientId);
        activity?.SetTag("federatedsharp.phase", kind);
        activity?.SetTag("federatedsharp.round", round);
        return activity;
    }
}
