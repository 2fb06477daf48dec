namespace FederatedSharp.Analytics;

/// <summary>The names of the query tasks an <see cref="AnalyticsSite"/> answers.</summary>
public static class AnalyticsQueries
{
    /// <summary>Per-feature summaries, histograms and a covariance matrix (<see cref="FederatedStatistics"/>).</summary>
    public const string Statistics = "fedsharp.analytics.statistics";

    /// <summary>Event and censoring counts over time, per group (<see cref="FederatedSurvival"/>).</summary>
    public const string Survival = "fedsharp.analytics.survival";

    /// <summary>The key of the JSON request in a query's configuration, and of the JSON reply in its answer.</summary>
    public const string PayloadKey = "payload";
}
