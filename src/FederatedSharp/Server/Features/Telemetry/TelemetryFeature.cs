using System.Diagnostics;
using FederatedSharp.Diagnostics;
using FederatedSharp.Server.Engine;

namespace FederatedSharp.Server.Features.Telemetry;

/// <summary>
/// Traces and counts rounds: a <c>federatedsharp.round</c> activity (tagged with the round and its outcome) spans each
/// round's phases and hooks, and the <c>federatedsharp.server.rounds</c> counter and
/// <c>federatedsharp.server.round.duration</c> histogram record every round, on the <see cref="FederatedSharpTelemetry"/>
/// source and meter; the client caller adds a span per client task beneath it. Every server has it (nothing is recorded unless a listener, such as OpenTelemetry, subscribes).
/// </summary>
internal sealed class TelemetryFeature : FederationFeature
{
    public override string Name => "telemetry";

    public override int Order => FeatureOrder.Telemetry;

    public override IDisposable? OnRoundStarting(FederationContext context, int round)
    {
        Activity? activity = Instruments.ActivitySource.StartActivity("federatedsharp.round");
        activity?.SetTag(Instruments.RoundTag, round);
        return activity;
    }

    public override ValueTask OnRoundCompletedAsync(FederationContext context, RoundRecord record, CancellationToken cancellationToken)
    {
        Instruments.Rounds.Add(1, new KeyValuePair<string, object?>(Instruments.OutcomeTag, record.Succeeded ? "succeeded" : "failed"));
        Instruments.RoundDuration.Record(record.Duration.TotalSeconds);
        Activity.Current?.SetTag(Instruments.OutcomeTag, record.Succeeded ? "succeeded" : "failed");
        return default;
    }
}
