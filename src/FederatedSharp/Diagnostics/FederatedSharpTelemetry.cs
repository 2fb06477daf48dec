namespace FederatedSharp.Diagnostics;

/// <summary>
/// The name of the package's <see cref="System.Diagnostics.Metrics.Meter"/> and <see cref="System.Diagnostics.ActivitySource"/>,
/// for <c>AddMeter</c>/<c>AddSource</c> in OpenTelemetry (the instances themselves stay internal). Spans:
/// <c>federatedsharp.round</c> per round and <c>federatedsharp.client.call</c> per client task, its child, tagged with
/// <c>federatedsharp.client.id</c>, <c>federatedsharp.phase</c> and <c>federatedsharp.outcome</c>. Instruments:
/// <c>federatedsharp.server.rounds</c>, <c>federatedsharp.server.round.duration</c> (s),
/// <c>federatedsharp.client.call.duration</c> (s, by phase and outcome), <c>federatedsharp.server.client_failures</c>,
/// <c>federatedsharp.server.updates.rejected</c> (by stage) and <c>federatedsharp.server.aggregation.duration</c> (s).
/// </summary>
public static class FederatedSharpTelemetry
{
    /// <summary>The name of the meter and the activity source: <c>FederatedSharp</c>.</summary>
    public const string Name = "FederatedSharp";
}
