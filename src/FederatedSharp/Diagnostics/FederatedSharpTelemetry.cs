using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace FederatedSharp.Diagnostics;

/// <summary>The library's <see cref="Meter"/> and <see cref="ActivitySource"/>, both named <c>FederatedSharp</c>.</summary>
public static class FederatedSharpTelemetry
{
    /// <summary>The name of the meter and the activity source.</summary>
    public const string Name = "FederatedSharp";

    /// <summary>Traces rounds (<c>federatedsharp.round</c>) and client calls.</summary>
    public static ActivitySource ActivitySource { get; } = new(Name, typeof(FederatedSharpTelemetry).Assembly.GetName().Version?.ToString());

    /// <summary>Rounds, client failures and round durations.</summary>
    public static Meter Meter { get; } = new(Name, typeof(FederatedSharpTelemetry).Assembly.GetName().Version?.ToString());

    internal static Counter<long> Rounds { get; } = Meter.CreateCounter<long>("federatedsharp.server.rounds", "{round}", "Rounds run, tagged by outcome.");

    internal static Counter<long> ClientFailures { get; } = Meter.CreateCounter<long>("federatedsharp.server.client_failures", "{failure}", "Client calls that failed, timed out or were rejected.");

    internal static Histogram<double> RoundDuration { get; } = Meter.CreateHistogram<double>("federatedsharp.server.round.duration", "s", "Wall time of a round.");
}
