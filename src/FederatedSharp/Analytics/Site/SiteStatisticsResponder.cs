namespace FederatedSharp.Analytics;

/// <summary>Answers a statistics query at the site: summaries, histograms and a covariance matrix under the policy.</summary>
internal static class SiteStatisticsResponder
{
    public static StatisticsReply Answer(SiteContext site, StatisticsQuery query)
    {
        DisclosurePolicy policy = site.Policy;
        Validate(site, query);
        bool noisy = policy.Noise != NoiseMechanism.None;
        int groups = query.Features.Count * (query.Summary ? 3 : 0) + (query.Histograms?.Count ?? 0);
        var noise = new NoiseSource(policy, site.Random, groups, AnalyticsQueries.Statistics);
        if (noisy)
        {
            site.Budget.Spend(policy.EpsilonPerQuery, policy.Noise == NoiseMechanism.Gaussian ? policy.DeltaPerQuery : 0, AnalyticsQueries.Statistics);
        }

        var reply = new StatisticsReply();
        var features = new HashSet<string>(query.Features, StringComparer.Ordinal);
        foreach (string name in query.Features.Concat(query.Histograms?.Keys.Where(k => !features.Contains(k)) ?? Enumerable.Empty<string>()))
        {
            var feature = new FeatureReply { Name = name };
            if (features.Contains(name) && query.Summary)
            {
                Summarise(site, noise, name, feature);
            }

            if (query.Histograms is not null && query.Histograms.TryGetValue(name, out double[]? edges))
            {
                feature.Histogram = Histogram(site, noise, name, edges);
                site.Resolutions.Record("histogram:" + name, edges);
            }

            reply.Features.Add(feature);
        }

        if (query.Covariance)
        {
            reply.Covariance = noisy ? RefuseCovariance(site) : Covariance(site, query.Features);
        }

        return reply;
    }

    private static void Validate(SiteContext site, StatisticsQuery query)
    {
        if (query.Features.Count == 0 && (query.Histograms?.Count ?? 0) == 0)
        {
            throw new FormatException("The statistics query names no feature.");
        }

        foreach (string name in query.Features.Concat(query.Histograms?.Keys ?? Enumerable.Empty<string>()))
        {
            if (!site.Data.HasColumn(name))
            {
                throw new FormatException($"The site's table has no column '{name}'.");
            }

            if (site.Policy.Noise != NoiseMechanism.None && !site.Policy.Bounds.ContainsKey(name))
            {
                throw new QueryRefusedException($"Noisy statistics of '{name}' need clipping bounds in the site's policy (DisclosurePolicy.Bounds); the site has none for it.");
            }
        }

        foreach ((string name, double[] edges) in query.Histograms ?? new Dictionary<string, double[]>())
        {
            ReleasedResolutions.Validate(edges, site.Policy.MaxHistogramBins, $"histogram of '{name}'");
            site.Resolutions.Check("histogram:" + name, edges, $"histogram of '{name}'");
        }
    }

    private static void Summarise(SiteContext site, NoiseSource noise, string name, FeatureReply feature)
    {
        DisclosurePolicy policy = site.Policy;
        double[] values = site.Values(name, out long missing);
        long count = values.Length;
        feature.Missing = missing > 0 && missing < policy.MinimumCount ? site.Withhold($"the missing count of '{name}' (under {policy.MinimumCount})") : noise.Add(missing, 1);
        if (count > 0 && count < policy.MinimumCount)
        {
            site.Withhold($"every statistic of '{name}': fewer than {policy.MinimumCount} values");
            return;
        }

        if (noise.Enabled)
        {
            ValueBounds bounds = policy.Bounds[name];
            double range = Math.Max(Math.Abs(bounds.Lower), Math.Abs(bounds.Upper));
            double sum = 0;
            double squares = 0;
            foreach (double v in values)
            {
                double clamped = Math.Clamp(v, bounds.Lower, bounds.Upper);
                sum += clamped;
                squares += clamped * clamped;
            }

            double noisyCount = noise.Add(count, 1);
            double noisySum = noise.Add(sum, range);
            double noisySquares = noise.Add(squares, range * range);
            feature.Count = noisyCount;
            feature.Sum = noisySum;
            feature.M2 = noisyCount > 0 ? Math.Max(0, noisySquares - (noisySum * noisySum / noisyCount)) : null;
            site.Withhold($"the minimum and maximum of '{name}': a noisy query cannot release them");
            return;
        }

        feature.Count = count;
        if (count == 0)
        {
            return;
        }

        double exactSum = 0;
        foreach (double v in values)
        {
            exactSum += v;
        }

        double mean = exactSum / count;
        double m2 = 0;
        foreach (double v in values)
        {
            m2 += (v - mean) * (v - mean);
        }

        feature.Sum = exactSum;
        feature.M2 = m2;
        if (policy.ReleaseMinMax)
        {
            feature.Min = values.Min();
            feature.Max = values.Max();
        }
        else
        {
            site.Withhold($"the minimum and maximum of '{name}': the policy withholds them");
        }
    }

    private static HistogramReply Histogram(SiteContext site, NoiseSource noise, string name, double[] edges)
    {
        double[] values = site.Values(name, out _);
        int bins = edges.Length - 1;
        var cells = new long[bins + 2]; // below, bins..., above
        foreach (double v in values)
        {
            cells[HistogramBinning.Cell(edges, v)]++;
        }

        int k = site.Policy.MinimumCount;
        bool totalReleased = !(values.Length > 0 && values.Length < k);
        bool[] withheld = Suppression.Cells(cells, k, totalReleased);
        int count = withheld.Count(w => w);
        if (count > 0)
        {
            site.Withhold($"{count} of {bins + 2} histogram cells of '{name}' (under {k} records, or complementary)");
        }

        double? Release(int i) => withheld[i] ? null : noise.Add(cells[i], 1);
        return new HistogramReply
        {
            Edges = edges,
            Below = Release(0),
            Counts = Enumerable.Range(1, bins).Select(Release).ToArray(),
            Above = Release(bins + 1),
        };
    }

    private static CovarianceReply? RefuseCovariance(SiteContext site)
    {
        site.Refuse("the covariance matrix: a noisy query cannot release it");
        return null;
    }

    private static CovarianceReply? Covariance(SiteContext site, List<string> names)
    {
        var columns = names.Select(n => site.Data.Column(n).ToArray()).ToArray();
        var rows = Enumerable.Range(0, site.Data.RowCount).Where(r => columns.All(c => !double.IsNaN(c[r]))).ToArray();
        if (rows.Length < site.Policy.MinimumCount)
        {
            site.Withhold($"the covariance matrix: {rows.Length} complete rows, under {site.Policy.MinimumCount}");
            return null;
        }

        int p = names.Count;
        var means = new double[p];
        for (int i = 0; i < p; i++)
        {
            means[i] = rows.Sum(r => columns[i][r]) / rows.Length;
        }

        var comoments = new double[p * p];
        for (int i = 0; i < p; i++)
        {
            for (int j = i; j < p; j++)
            {
                double s = 0;
                foreach (int r in rows)
                {
                    s += (columns[i][r] - means[i]) * (columns[j][r] - means[j]);
                }

                comoments[(i * p) + j] = s;
                comoments[(j * p) + i] = s;
            }
        }

        return new CovarianceReply { Features = names, Count = rows.Length, Means = means, Comoments = comoments };
    }
}
