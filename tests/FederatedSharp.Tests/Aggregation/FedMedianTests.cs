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
        // The strategy holds the updates without copies.
        float[] result = DisposedUpdates.Aggregate(new FedMedian(), 5, k => k);

        Assert.That(result, Has.All.EqualTo(2f));
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
