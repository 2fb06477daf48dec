using FederatedSharp.Aggregation;
using FederatedSharp.Clients;
using FederatedSharp.Parameters;
using FederatedSharp.Serialization;
using FederatedSharp.Tests.TestUtilities;

namespace FederatedSharp.Tests.Aggregation;

public class BulyanTests
{
    [Test]
    public void Complete_FewerThan4fPlus3_ThrowsClearly()
    {
        using ModelParameters global = RoundHelper.Vector(0);
        var updates = Enumerable.Range(0, 6).Select(i => (new float[] { i }, 1L)).ToArray();
        var ex = Assert.Throws<InvalidOperationException>(() => RoundHelper.Aggregate(new Bulyan(1), global, updates));
        Assert.That(ex!.Message, Does.Contain("n >= 4f + 3 = 7").And.Contain("got 6"));
    }

    [Test]
    public void Complete_TwoAttackersOfEleven_StaysNearHonestMean()
    {
        using ModelParameters global = RoundHelper.Vector(0, 0, 0);
        var updates = Enumerable.Range(0, 9).Select(i => (new float[] { 1 + (i * 0.01f), 1, 1 - (i * 0.01f) }, 1L))
            .Concat(new[] { (new float[] { -50, 50, 1e6f }, 1L), (new float[] { 80, -80, -1e6f }, 1L) }).ToArray();
        Assert.That(RoundHelper.Aggregate(new Bulyan(2), global, updates), Is.All.InRange(0.9f, 1.1f));
    }
}
