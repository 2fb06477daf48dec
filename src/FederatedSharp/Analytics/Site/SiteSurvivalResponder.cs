namespace FederatedSharp.Analytics;

/// <summary>
/// Answers a survival query at the site: per group, the events and censorings per time bin (or per exact time, when
/// the policy allows it), released while the group's number at risk is at least k; from the first time it drops
/// below k the rest of the group is withheld, and the server takes it out of the risk set there.
/// </summary>
internal static class SiteSurvivalResponder
{
    public static SurvivalReply Answer(SiteContext site, SurvivalQuery query)
    {
        DisclosurePolicy policy = site.Policy;
        Validate(site, query);
        var noise = new NoiseSource(policy, site.Random, 2, AnalyticsQueries.Survival);
        if (noise.Enabled)
        {
            site.Budget.Spend(policy.EpsilonPerQuery, policy.Noise == NoiseMechanism.Gaussian ? policy.DeltaPerQuery : 0, AnalyticsQueries.Survival);
        }

        ReadOnlySpan<double> time = site.Data.Column(query.Time);
        ReadOnlySpan<double> events = site.Data.Column(query.Event);
        ReadOnlySpan<double> groups = query.GroupBy is null ? ReadOnlySpan<double>.Empty : site.Data.Column(query.GroupBy);
        var reply = new SurvivalReply();
        double?[] groupValues = query.Groups is { Length: > 0 } g ? g.Select(v => (double?)v).ToArray() : new double?[] { null };
        foreach (double? group in groupValues)
        {
            var records = new List<(double Time, bool Event)>();
            for (int r = 0; r < time.Length; r++)
            {
                if (double.IsNaN(time[r]) || double.IsNaN(events[r]) || (group is double gv && groups[r] != gv))
                {
                    continue;
                }

                records.Add((query.Edges is null ? time[r] : query.Edges[BinOf(query.Edges, time[r])], events[r] != 0));
            }

            reply.Groups.Add(Table(site, noise, group, records, query.Edges));
        }

        if (query.Edges is not null)
        {
            site.Resolutions.Record("survival:" + query.Time, query.Edges);
        }

        return reply;
    }

    private static void Validate(SiteContext site, SurvivalQuery query)
    {
        foreach (string? column in new[] { query.Time, query.Event, query.GroupBy })
        {
            if (column is not null && !site.Data.HasColumn(column))
            {
                throw new FormatException($"The site's table has no column '{column}'.");
            }
        }

        if ((query.Groups is { Length: > 0 }) != (query.GroupBy is not null))
        {
            throw new FormatException("A survival query names a group column together with the group values, or neither.");
        }

        if (query.Edges is null)
        {
            if (!site.Policy.AllowExactEventTimes)
            {
                throw new QueryRefusedException("The survival query asks for exact event times; the site's policy allows binned times only (DisclosurePolicy.AllowExactEventTimes).");
            }

            return;
        }

        // The last bin is open-ended, so n edges make n bins.
        ReleasedResolutions.Validate(query.Edges.Append(query.Edges[^1] + 1).ToArray(), int.MaxValue, "survival time bins");
        double narrowest = query.Edges.Zip(query.Edges.Skip(1), (a, b) => b - a).DefaultIfEmpty(double.PositiveInfinity).Min();
        if (narrowest < site.Policy.MinSurvivalBinWidth)
        {
            throw new QueryRefusedException($"The survival query's narrowest time bin is {narrowest:G6} wide; the site's policy requires at least {site.Policy.MinSurvivalBinWidth:G6}.");
        }

        site.Resolutions.Check("survival:" + query.Time, query.Edges, "survival time bins");
    }

    /// <summary>Bin j holds [e_j, e_j+1); the last bin is open-ended and times before the first edge fall in bin 0.</summary>
    private static int BinOf(double[] edges, double time)
    {
        int index = Array.BinarySearch(edges, time);
        return Math.Max(0, index >= 0 ? index : ~index - 1);
    }

    private static SurvivalGroupReply Table(SiteContext site, NoiseSource noise, double? group, List<(double Time, bool Event)> records, double[]? edges)
    {
        int k = site.Policy.MinimumCount;
        var reply = new SurvivalGroupReply { Group = group };
        if (records.Count > 0 && records.Count < k)
        {
            site.Withhold($"survival group {group?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "all"}: fewer than {k} records");
            return reply;
        }

        double[] times = edges ?? records.Select(r => r.Time).Distinct().Order().ToArray();
        var byTime = records.GroupBy(r => r.Time).ToDictionary(g => g.Key, g => (Events: g.Count(r => r.Event), Censored: g.Count(r => !r.Event)));
        long atRisk = records.Count;
        var released = new List<(double Time, double Events, double Censored)>();
        foreach (double t in times)
        {
            if (atRisk < k)
            {
                if (atRisk > 0)
                {
                    reply.WithheldFrom = t;
                    site.Withhold($"the survival tail of group {group?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "all"} from time {t:G6}: under {k} at risk");
                }

                break;
            }

            (int d, int c) = byTime.TryGetValue(t, out var cell) ? cell : (0, 0);
            released.Add((t, noise.Add(d, 1), noise.Add(c, 1)));
            atRisk -= d + c;
        }

        reply.Count = noise.Add(records.Count, 1);
        reply.Times = released.Select(r => r.Time).ToArray();
        reply.Events = released.Select(r => r.Events).ToArray();
        reply.Censored = released.Select(r => r.Censored).ToArray();
        return reply;
    }
}
