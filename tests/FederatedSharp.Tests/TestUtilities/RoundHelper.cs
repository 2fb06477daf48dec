using FederatedSharp.Aggregation;
using FederatedSharp.Clients;
using FederatedSharp.Parameters;
using FederatedSharp.Serialization;
using FederatedSharp.Tests.TestUtilities;

namespace FederatedSharp.Tests.TestUtilities;

public static class RoundHelper
{
    public static float[] Aggregate(IAggregator aggregator, ModelParameters global, IReadOnlyList<(float[] Values, long Examples)> updates, int round = 1, Func<int, ConfigRecord>? metrics = null)
    {
        using IRoundAggregator r = aggregator.BeginRound(global, new AggregationContext(round, updates.Count, updates.Count));
        for (int i = 0; i < updates.Count; i++)
        {
            using var p = ModelParameters.FromValues(global.Layout, updates[i].Values);
            r.Add(new ClientUpdate($"c{i}", p, updates[i].Examples, metrics?.Invoke(i) ?? ConfigRecord.Empty));
        }

        using ModelParameters result = r.Complete();
        return result.Values.ToArray();
    }

    public static ModelParameters Vector(params float[] values) => ModelParameters.FromValues(TensorLayout.Create(new TensorSpec("w", values.Length)), values);
}
