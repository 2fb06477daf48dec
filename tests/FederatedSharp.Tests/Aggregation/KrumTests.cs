using FederatedSharp.Aggregation;
using FederatedSharp.Clients;
using FederatedSharp.Parameters;
using FederatedSharp.Serialization;
using FederatedSharp.Tests.TestUtilities;

namespace FederatedSharp.Tests.Aggregation;

public class KrumTests
{
    [Test]
    public void Complete_OneOutlier_ChoosesAnHonestUpdate()
    {
        using ModelParameters global = RoundHelper.Vector(0, 0);
        var updates = new[] { (new float[] { 1, 1 }, 1L), (new float[] { 1.1f, 0.9f }, 1L), (new float[] { 0.9f, 1 }, 1L), (new float[] { 1, 1.1f }, 1L), (new float[] { 100, -100 }, 1000L) };
        float[] krum = RoundHelper.Aggregate(new Krum(1), global, updates);
        float[] multi = RoundHelper.Aggregate(new Krum(1, 3), global, updates);
        Assert.Multiple(() =>
        {
            Assert.That(krum, Is.All.InRange(0.8f, 1.2f));
            Assert.That(multi, Is.All.InRange(0.8f, 1.2f));
            Assert.That(new Krum(1, 3).Name, Is.EqualTo("MultiKrum"));
        });
    }

    [Test]
    public void Complete_TooFewUpdatesForF_ThrowsWithTheRule()
    {
        using ModelParameters global = RoundHelper.Vector(0);
        var ex = Assert.Throws<InvalidOperationException>(() => RoundHelper.Aggregate(new Krum(2), global, new[] { (new float[] { 1 }, 1L), (new float[] { 2 }, 1L), (new float[] { 3 }, 1L), (new float[] { 4 }, 1L) }));
        Assert.That(ex!.Message, Does.Contain("f + 2"));
    }
}
