using FederatedSharp.Aggregation;
using FederatedSharp.Clients;
using FederatedSharp.Parameters;

namespace FederatedSharp.Tests.TestUtilities;

/// <summary>
/// Aggregates updates that the caller disposes right after each Add, then re-rents their buffers from the pool and
/// fills them with garbage before the round completes: a strategy that held an update without keeping its buffer
/// alive would aggregate the garbage.
/// </summary>
public static class DisposedUpdates
{
    /// <summary>Runs one round of <paramref name="clients"/> updates, update k filled with <paramref name="fill"/>(k), one example each.</summary>
    public static float[] Aggregate(IAggregator aggregator, int clients, Func<int, float> fill)
    {
        var layout = TensorLayout.Create(new TensorSpec("w", 100_000));
        using ModelParameters global = ModelParameters.Create(layout);
        using IRoundAggregator round = aggregator.BeginRound(global, new AggregationContext(1, clients, clients));
        for (int k = 0; k < clients; k++)
        {
            using ModelParameters update = ModelParameters.Create(layout);
            update.Values.Fill(fill(k));
            round.Add(new ClientUpdate($"c{k}", update, 1, ConfigRecord.Empty));
        }

        var reused = Enumerable.Range(0, clients).Select(_ => ModelParameters.CreateUninitialized(layout)).ToList();
        reused.ForEach(p => p.Values.Fill(1e9f));
        using ModelParameters result = round.Complete();
        reused.ForEach(p => p.Dispose());
        return result.Values.ToArray();
    }
}
