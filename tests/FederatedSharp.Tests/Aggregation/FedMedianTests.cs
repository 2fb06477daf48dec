using FederatedSharp.Aggregation;
using FederatedSharp.Clients;
using FederatedSharp.Parameters;
using FederatedSharp.Serialization;
using FederatedSharp.Tests.TestUtilities;

namespace FederatedSharp.Tests.Aggregation;

public class FedMedianTests
{
    [Test]
    public void Complete_OutlierWithHugeWeight_Ignored()
    {
        using ModelParameters global = RoundHelper.Vector(0);
        float[] r = RoundHelper.Aggregate(new FedMedian(), global, new[] { (new float[] { 1 }, 1L), (new float[] { 2 }, 1L), (new float[] { 1e9f }, 1_000_000L) });
        Assert.That(r[0], Is.EqualTo(2f));
    }

    [Test]
    public void Add_CallerDisposesUpdatesAndThePoolHandsTheirBuffersOut_ResultUnchanged()
    {
        // The strategy holds the updates without copies; if it did not keep their buffers alive, the garbage written
        // into the re-rented buffers below would reach the median.
        var layout = new TensorLayout(new[] { new TensorSpec("w", 100_000) });
        using ModelParameters global = ModelParameters.Create(layout);
        using IRoundAggregator round = new FedMedian().BeginRound(global, new AggregationContext(1, 5, 5));
        for (int k = 0; k < 5; k++)
        {
            using ModelParameters update = ModelParameters.Create(layout);
            update.Values.Fill(k);
            round.Add(new ClientUpdate($"c{k}", update, 1, ConfigRecord.Empty));
        }

        var reused = Enumerable.Range(0, 5).Select(_ => ModelParameters.CreateUninitialized(layout)).ToList();
        reused.ForEach(p => p.Values.Fill(1e9f));
        using ModelParameters result = round.Complete();
        reused.ForEach(p => p.Dispose());

        Assert.That(result.Values.ToArray(), Has.All.EqualTo(2f));
    }

    [Test]
    public void Add_LargeUpdate_AllocatesNoCopy()
    {
        var layout = new TensorLayout(new[] { new TensorSpec("w", 1_000_000) });
        using ModelParameters global = ModelParameters.Create(layout);
        using ModelParameters update = ModelParameters.Create(layout);
        using IRoundAggregator round = new FedMedian().BeginRound(global, new AggregationContext(1, 5, 5));
        round.Add(new ClientUpdate("warm-up", update, 1, ConfigRecord.Empty));

        long before = GC.GetAllocatedBytesForCurrentThread();
        round.Add(new ClientUpdate("c", update, 1, ConfigRecord.Empty));
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.That(allocated, Is.LessThan(4_000_000 / 10), "holding a 4 MB update allocates far less than a copy of it");
    }
}
