using FederatedSharp.Aggregation;
using FederatedSharp.Clients;
using FederatedSharp.Parameters;
using FederatedSharp.Tests.TestUtilities;

namespace FederatedSharp.Tests.Aggregation;

public class FedProxTests
{
    [Test]
    public void ConfigureFit_AnyRound_SendsProximalMu()
    {
        var config = new ConfigRecord();
        new FedProx(0.01).ConfigureFit(3, config);
        Assert.That(config.GetDouble(ConfigKeys.ProximalMu, -1), Is.EqualTo(0.01));
    }

    [TestCase(-0.1)]
    [TestCase(double.NaN)]
    [TestCase(double.PositiveInfinity)]
    public void Constructor_InvalidMu_Throws(double mu)
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => _ = new FedProx(mu));
    }

    [Test]
    public void Complete_TwoUpdates_IsWeightedAverageLikeFedAvg()
    {
        using ModelParameters global = TestModels.Filled(TestModels.SmallLayout, 0);
        using ModelParameters a = TestModels.Filled(TestModels.SmallLayout, 1);
        using ModelParameters b = TestModels.Filled(TestModels.SmallLayout, 4);
        using IRoundAggregator round = new FedProx(0.1).BeginRound(global, new AggregationContext(1, 2));
        round.Add(new ClientUpdate("a", a, 2, ConfigRecord.Empty));
        round.Add(new ClientUpdate("b", b, 1, ConfigRecord.Empty));
        using ModelParameters result = round.Complete();
        Assert.That(result.Values.ToArray(), Is.All.EqualTo(2f).Within(1e-6));
    }
}
