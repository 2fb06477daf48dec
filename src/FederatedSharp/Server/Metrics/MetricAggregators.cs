namespace FederatedSharp.Server;

/// <summary>The ready <see cref="MetricAggregator"/>s.</summary>
public static class MetricAggregators
{
    /// <summary>The example-weighted mean (Flower's default; the default here).</summary>
    public static MetricAggregator WeightedMean { get; } = samples =>
    {
        double sum = 0;
        double weight = 0;
        foreach (MetricSample sample in samples)
        {
            sum += sample.ExampleCount * sample.Value;
            weight += sample.ExampleCount;
        }

        return sum / weight;
    };

    /// <summary>The unweighted mean over clients (FLamby's per-centre average).</summary>
    public static MetricAggregator Mean { get; } = samples =>
    {
        double sum = 0;
        foreach (MetricSample sample in samples)
        {
            sum += sample.Value;
        }

        return sum / samples.Count;
    };

    /// <summary>The median over clients (the mean of the two middle values for an even count).</summary>
    public static MetricAggregator Median { get; } = samples =>
    {
        double[] values = samples.Select(s => s.Value).Order().ToArray();
        int middle = values.Length / 2;
        return values.Length % 2 == 1 ? values[middle] : (values[middle - 1] + values[middle]) / 2;
    };

    /// <summary>The smallest value over clients (the worst site, for an accuracy).</summary>
    public static MetricAggregator Min { get; } = samples => samples.Min(s => s.Value);

    /// <summary>The largest value over clients (the worst site, for a loss).</summary>
    public static MetricAggregator Max { get; } = samples => samples.Max(s => s.Value);

    /// <summary>
    /// The global AUC from the clients' <see cref="BinaryScoreHistogram"/>s, reported under <paramref name="histogramKey"/>
    /// as an evaluation metric: the histograms are merged and the AUC computed as over the pooled test sets. Clients
    /// without the key, or with a malformed histogram, are left out; null when none reported one.
    /// </summary>
    /// <param name="histogramKey">The evaluation metric holding each client's histogram.</param>
    /// <returns>The computed metric, for <see cref="MetricAggregationOptions.Computed"/>.</returns>
    public static ComputedMetric Auc(string histogramKey)
    {
        ArgumentException.ThrowIfNullOrEmpty(histogramKey);
        return results =>
        {
            BinaryScoreHistogram? merged = null;
            foreach (ClientEvaluateMetrics result in results)
            {
                if (!result.Metrics.TryGetValue(histogramKey, out FederatedSharp.Clients.ConfigValue value))
                {
                    continue;
                }

                try
                {
                    BinaryScoreHistogram histogram = BinaryScoreHistogram.FromConfigValue(value);
                    if (merged is null)
                    {
                        merged = histogram;
                    }
                    else
                    {
                        merged.Merge(histogram);
                    }
                }
                catch (Exception e) when (e is FormatException or ArgumentException)
                {
                    // A malformed or mismatched histogram is left out: one client cannot break the round's metrics.
                }
            }

            return merged?.Auc();
        };
    }

    /// <summary>
    /// The worst client's value of an evaluation metric (the smallest, or the largest when smaller is better), for
    /// reporting the worst site next to the mean, for example of personalised models; null when no client reported it.
    /// </summary>
    /// <param name="metric">The numeric evaluation metric.</param>
    /// <param name="higherIsBetter">True for accuracies (the worst is the smallest), false for losses.</param>
    /// <returns>The computed metric, for <see cref="MetricAggregationOptions.Computed"/>.</returns>
    public static ComputedMetric Worst(string metric, bool higherIsBetter = true)
    {
        ArgumentException.ThrowIfNullOrEmpty(metric);
        return results =>
        {
            double[] values = results.Where(r => r.Metrics.TryGetValue(metric, out FederatedSharp.Clients.ConfigValue v) && v.IsNumeric)
                .Select(r => r.Metrics[metric].AsDouble()).ToArray();
            return values.Length == 0 ? null : higherIsBetter ? values.Min() : values.Max();
        };
    }
}
