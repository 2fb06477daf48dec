using FederatedSharp.Server;

namespace FederatedSharp.Analytics;

/// <summary>What <see cref="FederatedSurvival.AnalyseAsync"/> found.</summary>
public sealed class SurvivalReport
{
    internal SurvivalReport(IReadOnlyDictionary<string, IReadOnlyList<KaplanMeierCurve>> sites, IReadOnlyList<KaplanMeierCurve> pooled, LogRankResult? logRank, IReadOnlyList<ClientFailure> failures)
    {
        Sites = sites;
        Pooled = pooled;
        LogRank = logRank;
        Failures = failures;
    }

    /// <summary>Each answering site's curves, one per group, by client id.</summary>
    public IReadOnlyDictionary<string, IReadOnlyList<KaplanMeierCurve>> Sites { get; }

    /// <summary>The curves over every answering site, one per group: the pooled Kaplan–Meier estimate.</summary>
    public IReadOnlyList<KaplanMeierCurve> Pooled { get; }

    /// <summary>The log-rank test between the groups over all sites; null with fewer than two groups.</summary>
    public LogRankResult? LogRank { get; }

    /// <summary>The sites that did not answer and why.</summary>
    public IReadOnlyList<ClientFailure> Failures { get; }
}
