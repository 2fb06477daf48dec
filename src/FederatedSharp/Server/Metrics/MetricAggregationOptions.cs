using FederatedSharp.Clients;

namespace FederatedSharp.Server;

/// <summary>
/// How the clients' metrics become a round's metrics, per metric name, for fit and for evaluation
/// (<see cref="FederatedServerBuilder.WithMetricAggregation"/>). A metric without an entry uses the default, the
/// example-weighted mean. Only numeric metrics are aggregated; every client's own values stay in
/// <see cref="RoundRecord.FitResults"/> and <see cref="RoundRecord.EvaluateResults"/>.
/// </summary>
public sealed class MetricAggregationOptions
{
    /// <summary>Fit metrics by name.</summary>
    public Dictionary<string, MetricAggregator> Fit { get; } = new(StringComparer.Ordinal);

    /// <summary>Evaluation metrics by name (the distributed loss stays the example-weighted mean).</summary>
    public Dictionary<string, MetricAggregator> Evaluate { get; } = new(StringComparer.Ordinal);

    /// <summary>
    /// Evaluation metrics computed from every client's whole result rather than averaged, by name (for example
    /// <c>["auc"] = MetricAggregators.Auc("auc_histogram")</c>). They run after the averages and replace an average of
    /// the same name.
    /// </summary>
    public Dictionary<string, ComputedMetric> Computed { get; } = new(StringComparer.Ordinal);

    /// <summary>The fit metrics' default (example-weighted mean).</summary>
    public MetricAggregator DefaultFit { get; set; } = MetricAggregators.WeightedMean;

    /// <summary>The evaluation metrics' default (example-weighted mean).</summary>
    public MetricAggregator DefaultEvaluate { get; set; } = MetricAggregators.WeightedMean;

    internal ConfigRecord AggregateFit(IEnumerable<ClientFitMetrics> results) =>
        Aggregate(results.Select(r => (r.ClientId, r.ExampleCount, r.Metrics)), Fit, DefaultFit);

    internal ConfigRecord AggregateEvaluate(IEnumerable<ClientEvaluateMetrics> results)
    {
        var list = results.ToList();
        ConfigRecord averaged = Aggregate(list.Select(r => (r.ClientId, r.ExampleCount, r.Metrics)), Evaluate, DefaultEvaluate);
        if (Computed.Count == 0 || list.Count == 0)
        {
            return averaged;
        }

        ConfigRecord record = averaged.Copy();
        foreach ((string key, ComputedMetric metric) in Computed)
        {
            if (metric(list) is double value)
            {
                record[key] = value;
            }
        }

        return record.Freeze();
    }

    internal MetricAggregationOptions Copy()
    {
        var copy = new MetricAggregationOptions { DefaultFit = DefaultFit, DefaultEvaluate = DefaultEvaluate };
        foreach ((string key, MetricAggregator value) in Fit)
        {
            copy.Fit[key] = value;
        }

        foreach ((string key, MetricAggregator value) in Evaluate)
        {
            copy.Evaluate[key] = value;
        }

        foreach ((string key, ComputedMetric value) in Computed)
        {
            copy.Computed[key] = value;
        }

        return copy;
    }

    internal void Validate()
    {
        ArgumentNullException.ThrowIfNull(DefaultFit, nameof(DefaultFit));
        ArgumentNullException.ThrowIfNull(DefaultEvaluate, nameof(DefaultEvaluate));
        foreach ((string key, MetricAggregator? value) in Fit.Concat(Evaluate))
        {
            if (value is null)
            {
                throw new ArgumentException($"The metric aggregator for '{key}' is null.", nameof(MetricAggregationOptions));
            }
        }

        foreach ((string key, ComputedMetric? value) in Computed)
        {
            if (value is null)
            {
                throw new ArgumentException($"The computed metric '{key}' is null.", nameof(MetricAggregationOptions));
            }
        }
    }

    private static ConfigRecord Aggregate(
        IEnumerable<(string ClientId, long Examples, ConfigRecord Metrics)> results, Dictionary<string, MetricAggregator> named, MetricAggregator fallback)
    {
        var samples = new SortedDictionary<string, List<MetricSample>>(StringComparer.Ordinal);
        foreach ((string clientId, long examples, ConfigRecord metrics) in results)
        {
            if (examples <= 0)
            {
                continue;
            }

            foreach ((string key, ConfigValue value) in metrics)
            {
                if (value.IsNumeric)
                {
                    (samples.TryGetValue(key, out List<MetricSample>? list) ? list : samples[key] = new()).Add(new MetricSample(clientId, examples, value.AsDouble()));
                }
            }
        }

        var record = new ConfigRecord();
        foreach ((string key, List<MetricSample> values) in samples)
        {
            MetricAggregator aggregator = named.TryGetValue(key, out MetricAggregator? chosen) ? chosen : fallback;
            record[key] = aggregator(values);
        }

        return record.Freeze();
    }
}
