using FederatedSharp.Aggregation;
using FederatedSharp.Clients;
using FederatedSharp.Parameters;
using FederatedSharp.Serialization;
using FederatedSharp.Tests.TestUtilities;

namespace FederatedSharp.Tests.Aggregation;

public class FedTrimmedAvgTests
{
    [Test]
    public void Complete_TenValuesBeta02_DropsTwoAtEachEnd()
    {
        using ModelParameters global = RoundHelper.Vector(0);
        var updates = new[] { -1000f, 1, 2, 3, 4, 5, 6, 7, 8, 1000f }.Select(v => (new[] { v }, 1L)).ToArray();
        Assert.That(RoundHelper.Aggregate(new FedTrimmedAvg(0.2), global, updates)[0], Is.EqualTo(4.5f));
    }

    [Test]
    public void Constructor_BetaHalf_Throws()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => _ = new FedTrimmedAvg(0.5));
    }
}
