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
}
