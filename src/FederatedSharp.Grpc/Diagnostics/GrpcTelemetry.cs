namespace FederatedSharp.Grpc.Diagnostics;

/// <summary>
/// The name of the gRPC package's <see cref="System.Diagnostics.Metrics.Meter"/> and <see cref="System.Diagnostics.ActivitySource"/>,
/// for <c>AddMeter</c>/<c>AddSource</c> in OpenTelemetry (the instances stay internal). Spans: a client's
/// <c>federatedsharp.client.fit</c>, <c>.evaluate</c>, <c>.query</c> or <c>.properties</c> per task, a child of the
/// server's <c>federatedsharp.client.call</c> span through the trace context sent with the task. Instruments:
/// <c>federatedsharp.grpc.bytes.sent</c> and <c>federatedsharp.grpc.bytes.received</c> (By, tagged
/// <c>federatedsharp.grpc.side</c> = server or client), <c>federatedsharp.grpc.clients.connected</c> and
/// <c>federatedsharp.grpc.calls.refused</c>.
/// </summary>
public static class GrpcTelemetry
{
    /// <summary>The name of the meter and the activity source: <c>FederatedSharp.Grpc</c>.</summary>
    public const string Name = "FederatedSharp.Grpc";
}
