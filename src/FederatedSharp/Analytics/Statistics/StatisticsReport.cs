using FederatedSharp.Server;

namespace FederatedSharp.Analytics;

/// <summary>What <see cref="FederatedStatistics.ComputeAsync"/> found: per site, over all sites, and what went wrong.</summary>
public sealed class StatisticsReport
{
    internal StatisticsReport(IReadOnlyDictionary<string, SiteStatistics> sites, SiteStatistics global, IReadOnlyList<ClientFailure> failures, IReadOnlyList<string> notes)
    {
        Sites = sites;
        Global = global;
        Failures = failures;
        Notes = notes;
    }

    /// <summary>Each answering site's statistics, by client id.</summary>
    public IReadOnlyDictionary<string, SiteStatistics> Sites { get; }

    /// <summary>The statistics over every answering site, computed from their replies as if the data were pooled.</summary>
    public SiteStatistics Global { get; }

    /// <summary>The sites that did not answer (refused by their policy, failed, unsupported) and why.</summary>
    public IReadOnlyList<ClientFailure> Failures { get; }

    /// <summary>What could not be computed and why (for example, a histogram without an agreed range).</summary>
    public IReadOnlyList<string> Notes { get; }
}
