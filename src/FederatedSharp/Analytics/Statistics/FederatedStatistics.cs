using FederatedSharp.Clients;
using FederatedSharp.Server;

namespace FederatedSharp.Analytics;

/// <summary>
/// Federated statistics over the sites' tables (NVIDIA FLARE's federated statistics, the .NET way): per feature, per
/// site and global, the count, missing count, sum, mean, variance and standard deviation, minimum and maximum,
/// histograms and quantiles, and a covariance and correlation matrix. Global values are merged from the sites'
/// sufficient statistics (counts, sums, centred second moments), so they equal the pooled computation; quantiles come
/// from the merged histogram with a stated error bound. Each site answers with an <see cref="AnalyticsSite"/>, which
/// enforces its own <see cref="DisclosurePolicy"/>: what a site withholds is missing here too.
/// </summary>
public sealed class FederatedStatistics
{
    private readonly FederatedServer _server;

    /// <summary>Creates the statistics over the server's clients.</summary>
    /// <param name="server">The server whose query tasks reach the sites (<see cref="FederatedServer.QueryAsync"/>).</param>
    public FederatedStatistics(FederatedServer server) => _server = server ?? throw new ArgumentNullException(nameof(server));

    /// <summary>
    /// Computes the statistics in one or two queries: the summaries (and histograms with explicit edges, and the
    /// covariance), then, when <see cref="StatisticsRequest.HistogramBins"/> is positive, histograms over equal-width
    /// bins from the global minimum to the global maximum of the first pass.
    /// </summary>
    /// <param name="request">What to compute.</param>
    /// <param name="sites">The client ids to ask; null for every connected client.</param>
    /// <param name="cancellationToken">Cancels the queries.</param>
    /// <returns>The per-site and global statistics, the sites that failed, and notes on what could not be computed.</returns>
    /// <exception cref="ArgumentException">The request is invalid.</exception>
    public async Task<StatisticsReport> ComputeAsync(StatisticsRequest request, IReadOnlyList<string>? sites = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        request.Validate();
        var notes = new List<string>();
        var failures = new List<ClientFailure>();
        var first = new StatisticsQuery
        {
            Features = request.Features.ToList(),
            Covariance = request.Covariance,
            Histograms = request.HistogramEdges.Count > 0 ? request.HistogramEdges.ToDictionary(p => p.Key, p => p.Value, StringComparer.Ordinal) : null,
        };
        Dictionary<string, StatisticsReply> replies = await AskAsync(first, sites, failures, cancellationToken).ConfigureAwait(false);
        Dictionary<string, double[]> agreed = AgreeEdges(request, replies, notes);
        if (agreed.Count > 0 && replies.Count > 0)
        {
            var second = new StatisticsQuery { Features = new List<string>(), Summary = false, Histograms = agreed };
            Dictionary<string, StatisticsReply> histograms = await AskAsync(second, replies.Keys.ToList(), failures, cancellationToken).ConfigureAwait(false);
            foreach (string site in replies.Keys.ToList())
            {
                if (!histograms.TryGetValue(site, out StatisticsReply? reply))
                {
                    notes.Add($"Site '{site}' answered the summaries but not the histograms; its histograms are missing.");
                    continue;
                }

                foreach (FeatureReply feature in reply.Features)
                {
                    FeatureReply? target = replies[site].Features.Find(f => f.Name == feature.Name);
                    if (target is not null)
                    {
                        target.Histogram = feature.Histogram;
                    }
                }
            }
        }

        return Build(request, replies, failures, notes);
    }

    private async Task<Dictionary<string, StatisticsReply>> AskAsync(StatisticsQuery query, IReadOnlyList<string>? sites, List<ClientFailure> failures, CancellationToken cancellationToken)
    {
        ConfigRecord config = Payload.Write(query, AnalyticsJson.Default.StatisticsQuery);
        using QueryRoundResult result = await _server.QueryAsync(AnalyticsQueries.Statistics, config, sites, null, cancellationToken).ConfigureAwait(false);
        failures.AddRange(result.Failures);
        return Payload.ReadAnswers(result, AnalyticsJson.Default.StatisticsReply, "statistics reply", (reply, site) => CheckShape(query, reply, site), failures);
    }

    private static void CheckShape(StatisticsQuery query, StatisticsReply reply, string site)
    {
        var asked = new HashSet<string>(query.Features.Concat(query.Histograms?.Keys ?? Enumerable.Empty<string>()), StringComparer.Ordinal);
        if (reply.Features.Count != asked.Count || reply.Features.Any(f => !asked.Contains(f.Name)))
        {
            throw new FormatException($"Site '{site}' replied with features ({string.Join(", ", reply.Features.Select(f => f.Name))}) other than those asked for.");
        }

        foreach (FeatureReply feature in reply.Features)
        {
            if (feature.Histogram is { } h && (query.Histograms is null || !query.Histograms.TryGetValue(feature.Name, out double[]? edges) || !h.Edges.SequenceEqual(edges) || h.Counts.Length != edges.Length - 1))
            {
                throw new FormatException($"Site '{site}' replied with a histogram of '{feature.Name}' over edges other than those asked for.");
            }
        }
    }

    private static Dictionary<string, double[]> AgreeEdges(StatisticsRequest request, Dictionary<string, StatisticsReply> replies, List<string> notes)
    {
        var agreed = new Dictionary<string, double[]>(StringComparer.Ordinal);
        if (request.HistogramBins == 0)
        {
            return agreed;
        }

        foreach (string name in request.Features.Where(f => !request.HistogramEdges.ContainsKey(f)))
        {
            FeatureStatistics global = StatisticsMerger.Global(name, replies.Select(r => (r.Key, r.Value.Features.First(f => f.Name == name))).ToList(), Array.Empty<double>());
            if (global.Min is not double min || global.Max is not double max)
            {
                notes.Add($"No histogram of '{name}': a site withheld its minimum or maximum, so no range could be agreed; give StatisticsRequest.HistogramEdges for it.");
                continue;
            }

            if (min == max)
            {
                (min, max) = (min - 0.5, max + 0.5);
            }

            int bins = request.HistogramBins;
            double[] edges = Enumerable.Range(0, bins + 1).Select(i => min + ((max - min) * i / bins)).ToArray();
            edges[^1] = max;
            agreed[name] = edges;
        }

        return agreed;
    }

    private static StatisticsReport Build(StatisticsRequest request, Dictionary<string, StatisticsReply> replies, List<ClientFailure> failures, List<string> notes)
    {
        var names = request.Features.Concat(request.HistogramEdges.Keys).Distinct(StringComparer.Ordinal).ToList();
        var sites = new SortedDictionary<string, SiteStatistics>(StringComparer.Ordinal);
        foreach ((string site, StatisticsReply reply) in replies)
        {
            sites[site] = new SiteStatistics(
                reply.Features.ToDictionary(f => f.Name, f => StatisticsMerger.Site(f, request.Quantiles), StringComparer.Ordinal),
                StatisticsMerger.Covariance(reply.Covariance));
        }

        var global = names.ToDictionary(
            name => name,
            name => StatisticsMerger.Global(name, replies.Select(r => (r.Key, r.Value.Features.First(f => f.Name == name))).ToList(), request.Quantiles),
            StringComparer.Ordinal);
        CovarianceMatrix? covariance = null;
        if (request.Covariance)
        {
            var released = replies.Where(r => r.Value.Covariance is not null).ToList();
            covariance = StatisticsMerger.Combine(released.Select(r => r.Value.Covariance!).ToList());
            string[] withheld = replies.Keys.Except(released.Select(r => r.Key)).Order(StringComparer.Ordinal).ToArray();
            if (withheld.Length > 0)
            {
                notes.Add($"The global covariance leaves out {string.Join(", ", withheld)}: they withheld theirs.");
            }
        }

        return new StatisticsReport(sites, new SiteStatistics(global, covariance), failures, notes);
    }
}
