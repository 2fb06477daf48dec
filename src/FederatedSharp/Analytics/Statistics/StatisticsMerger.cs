namespace FederatedSharp.Analytics;

/// <summary>Turns sites' replies into per-site and global statistics (Chan et al.'s pairwise merge of means and centred moments).</summary>
internal static class StatisticsMerger
{
    public static FeatureStatistics Site(FeatureReply reply, IReadOnlyList<double> quantiles) => new()
    {
        Name = reply.Name,
        Count = reply.Count,
        Missing = reply.Missing,
        Sum = reply.Sum,
        Mean = reply.Count is > 0 && reply.Sum is double s ? s / reply.Count.Value : null,
        Variance = reply.Count is > 1 && reply.M2 is double m2 ? m2 / (reply.Count.Value - 1) : null,
        Min = reply.Min,
        Max = reply.Max,
        Histogram = ToHistogram(reply.Histogram),
        Quantiles = Quantiles(ToHistogram(reply.Histogram), quantiles),
    };

    public static FeatureStatistics Global(string name, IReadOnlyList<(string Site, FeatureReply Reply)> replies, IReadOnlyList<double> quantiles)
    {
        var incomplete = new SortedSet<string>(StringComparer.Ordinal);
        var included = new List<FeatureReply>();
        foreach ((string site, FeatureReply reply) in replies)
        {
            if (reply.Count is null || (reply.Count > 0 && (reply.Sum is null || reply.M2 is null)))
            {
                incomplete.Add(site);
            }
            else
            {
                included.Add(reply);
            }
        }

        double count = included.Sum(r => r.Count!.Value);
        double sum = included.Sum(r => r.Sum ?? 0);
        double? mean = count > 0 ? sum / count : null;
        double m2 = 0;
        foreach (FeatureReply r in included.Where(r => r.Count > 0))
        {
            double siteMean = r.Sum!.Value / r.Count!.Value;
            m2 += r.M2!.Value + (r.Count.Value * (siteMean - mean!.Value) * (siteMean - mean.Value));
        }

        bool allMissing = replies.All(r => r.Reply.Missing is not null);
        bool allMinMax = included.All(r => r.Count == 0 || (r.Min is not null && r.Max is not null));
        var withData = included.Where(r => r.Count > 0).ToList();
        Histogram? histogram = MergeHistograms(replies, incomplete);
        return new FeatureStatistics
        {
            Name = name,
            Count = count,
            Missing = allMissing ? replies.Sum(r => r.Reply.Missing!.Value) : null,
            Sum = sum,
            Mean = mean,
            Variance = count > 1 ? m2 / (count - 1) : null,
            Min = allMinMax && withData.Count > 0 ? withData.Min(r => r.Min!.Value) : null,
            Max = allMinMax && withData.Count > 0 ? withData.Max(r => r.Max!.Value) : null,
            Histogram = histogram,
            Quantiles = Quantiles(histogram, quantiles),
            IncompleteSites = incomplete.ToArray(),
        };
    }

    public static CovarianceMatrix? Covariance(CovarianceReply? reply) =>
        reply is null ? null : Combine(new[] { reply });

    public static CovarianceMatrix? Combine(IReadOnlyList<CovarianceReply> replies)
    {
        if (replies.Count == 0)
        {
            return null;
        }

        int p = replies[0].Features.Count;
        double n = replies.Sum(r => r.Count);
        var mean = new double[p];
        for (int i = 0; i < p; i++)
        {
            mean[i] = replies.Sum(r => r.Count * r.Means[i]) / n;
        }

        var covariance = new double[p, p];
        var correlation = new double[p, p];
        for (int i = 0; i < p; i++)
        {
            for (int j = 0; j < p; j++)
            {
                double c = replies.Sum(r => r.Comoments[(i * p) + j] + (r.Count * (r.Means[i] - mean[i]) * (r.Means[j] - mean[j])));
                covariance[i, j] = c / (n - 1);
            }
        }

        for (int i = 0; i < p; i++)
        {
            for (int j = 0; j < p; j++)
            {
                correlation[i, j] = covariance[i, j] / Math.Sqrt(covariance[i, i] * covariance[j, j]);
            }
        }

        return new CovarianceMatrix(replies[0].Features, n, mean, covariance, correlation);
    }

    public static IReadOnlyList<QuantileEstimate> Quantiles(Histogram? histogram, IReadOnlyList<double> probabilities)
    {
        if (histogram is null || !histogram.IsComplete)
        {
            return Array.Empty<QuantileEstimate>();
        }

        double below = histogram.Below!.Value;
        double total = below + histogram.Above!.Value + histogram.Counts.Sum(c => c!.Value);
        var estimates = new List<QuantileEstimate>();
        foreach (double q in probabilities)
        {
            double target = q * total;
            double cumulative = below;
            if (total <= 0 || (below > 0 && target <= below))
            {
                continue;
            }

            for (int j = 0; j < histogram.Counts.Count; j++)
            {
                double c = histogram.Counts[j]!.Value;
                if (c > 0 && cumulative + c >= target)
                {
                    double width = histogram.Edges[j + 1] - histogram.Edges[j];
                    double fraction = Math.Clamp((target - cumulative) / c, 0, 1);
                    estimates.Add(new QuantileEstimate(q, histogram.Edges[j] + (fraction * width), width));
                    break;
                }

                cumulative += c;
            }
        }

        return estimates;
    }

    private static Histogram? ToHistogram(HistogramReply? reply) =>
        reply is null ? null : new Histogram(reply.Edges, reply.Counts, reply.Below, reply.Above);

    private static Histogram? MergeHistograms(IReadOnlyList<(string Site, FeatureReply Reply)> replies, SortedSet<string> incomplete)
    {
        var histograms = replies.Where(r => r.Reply.Histogram is not null).ToList();
        if (histograms.Count == 0)
        {
            return null;
        }

        double[] edges = histograms[0].Reply.Histogram!.Edges;
        if (histograms.Any(h => !h.Reply.Histogram!.Edges.SequenceEqual(edges)))
        {
            throw new FormatException("Sites replied with histograms over different edges.");
        }

        static double? Add(double? a, double? b) => a is double x && b is double y ? x + y : null;
        double? below = 0;
        double? above = 0;
        var counts = new double?[edges.Length - 1];
        Array.Fill(counts, 0);
        foreach ((string site, FeatureReply reply) in histograms)
        {
            HistogramReply h = reply.Histogram!;
            if (h.Counts.Length != counts.Length)
            {
                throw new FormatException($"Site '{site}' replied with {h.Counts.Length} histogram counts for {counts.Length} bins.");
            }

            below = Add(below, h.Below);
            above = Add(above, h.Above);
            for (int j = 0; j < counts.Length; j++)
            {
                counts[j] = Add(counts[j], h.Counts[j]);
            }

            if (h.Below is null || h.Above is null || h.Counts.Any(c => c is null))
            {
                incomplete.Add(site);
            }
        }

        return new Histogram(edges, counts, below, above);
    }
}
