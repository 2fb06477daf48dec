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
}
