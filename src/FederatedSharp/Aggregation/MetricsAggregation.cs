using FederatedSharp.Clients;

namespace FederatedSharp.Aggregation;

/// <summary>Aggregation of client metrics.</summary>
internal static class MetricsAggregation
{
    /// <summary>
    /// The example-weighted mean of every numeric metric: for each key, <c>sum(n_k m_k) / sum(n_k)</c> over the clients
    /// that reported it. String and byte metrics are not averaged and are left out.
    /// </summary>
    /// <param name="results">Each client's example count and metrics.</param>
    /// <returns>The aggregated metrics (frozen).</returns>
    public static ConfigRecord WeightedAverage(IEnumerable<(long ExampleCount, ConfigRecord Metrics)> results)
    {
        ArgumentNullException.ThrowIfNull(results);
        var sums = new SortedDictionary<string, (double Sum, double Weight)>(StringComparer.Ordinal);
        foreach ((long count, ConfigRecord metrics) in results)
        {
            if (count <= 0)
            {
                continue;
            }

            foreach ((string key, ConfigValue value) in metrics)
            {
                if (!value.IsNumeric)
                {
                    continue;
                }

                sums.TryGetValue(key, out (double Sum, double Weight) acc);
                sums[key] = (acc.Sum + (count * value.AsDouble()), acc.Weight + count);
            }
        }

        var record = new ConfigRecord();
        foreach ((string key, (double sum, double weight)) in sums)
        {
            record[key] = sum / weight;
        }

        return record.Freeze();
    }
}
