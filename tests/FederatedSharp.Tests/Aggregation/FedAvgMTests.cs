using FederatedSharp.Aggregation;
using FederatedSharp.Clients;
using FederatedSharp.Parameters;
using FederatedSharp.Serialization;
using FederatedSharp.Tests.TestUtilities;

namespace FederatedSharp.Tests.Aggregation;

public class FedAvgMTests
{
    [Test]
    public void Complete_NoMomentumUnitRate_EqualsFedAvg()
    {
        using ModelParameters global = RoundHelper.Vector(1, 2, 3);
        var updates = new[] { (new float[] { 2, 2, 2 }, 1L), (new float[] { 4, 6, 8 }, 3L) };
        Assert.That(RoundHelper.Aggregate(new FedAvgM(), global, updates), Is.EqualTo(RoundHelper.Aggregate(new FedAvg(), global, updates)).Within(1e-6));
    }

    [Test]
    public void Complete_SecondRound_UsesMomentum()
    {
        var strategy = new FedAvgM(serverLearningRate: 1, serverMomentum: 0.5);
        using ModelParameters global = RoundHelper.Vector(0);
        float first = RoundHelper.Aggregate(strategy, global, new[] { (new float[] { 1 }, 1L) })[0];   // g = -1, v = -1, w = 1
        global.Values[0] = first;
        float second = RoundHelper.Aggregate(strategy, global, new[] { (new float[] { 2 }, 1L) }, 2)[0]; // g = -1, v = -1.5, w = 2.5
        Assert.That((first, second), Is.EqualTo((1f, 2.5f)));
    }

    [TestCase(-1.0, 0.0)]
    [TestCase(1.0, 1.0)]
    public void Constructor_OutOfRange_Throws(double lr, double momentum)
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => _ = new FedAvgM(lr, momentum));
    }
}
