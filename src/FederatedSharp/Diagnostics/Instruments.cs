using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace FederatedSharp.Diagnostics;

/// <summary>The package's one <see cref="Meter"/> and one <see cref="ActivitySource"/>, and every instrument on them.</summary>
internal static class Instruments
{
    private static readonly string? Version = typeof(Instruments).Assembly.GetName().Version?.ToString();

    /// <summary>Tag names shared by spans and instruments.</summary>
    public const string RoundTag = "federatedsharp.round";
    public const string ClientIdTag = "federatedsharp.client.id";
    public const string PhaseTag = "federatedsharp.phase";
    public const string OutcomeTag = "federatedsharp.outcome";
    public const string StageTag = "federatedsharp.stage";

    public static ActivitySource ActivitySource { get; } = new(FederatedSharpTelemetry.Name, Version);

    public static Meter Meter { get; } = new(FederatedSharpTelemetry.Name, Version);

    public static Counter<long> Rounds { get; } = Meter.CreateCounter<long>("federatedsharp.server.rounds", "{round}", "Rounds completed, tagged by outcome.");

    public static Histogram<double> RoundDuration { get; } = Meter.CreateHistogram<double>("federatedsharp.server.round.duration", "s", "Duration of a round.");

    public static Histogram<double> ClientCallDuration { get; } = Meter.CreateHistogram<double>("federatedsharp.client.call.duration", "s", "Duration of one client task, by phase and outcome.");

    public static Counter<long> ClientFailures { get; } = Meter.CreateCounter<long>("federatedsharp.server.client_failures", "{failure}", "Client tasks that failed, timed out or were rejected, by kind.");

    public static Counter<long> RejectedUpdates { get; } = Meter.CreateCounter<long>("federatedsharp.server.updates.rejected", "{update}", "Updates rejected before aggregation, by the stage that rejected them.");

    public static Histogram<double> AggregationDuration { get; } = Meter.CreateHistogram<double>("federatedsharp.server.aggregation.duration", "s", "Duration of a round's final aggregation pass (the strategy's Complete, through every update stage).");
}
