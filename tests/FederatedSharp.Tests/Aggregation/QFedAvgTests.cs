using FederatedSharp.Aggregation;
using FederatedSharp.Clients;
using FederatedSharp.Parameters;
using FederatedSharp.Serialization;
using FederatedSharp.Tests.TestUtilities;

namespace FederatedSharp.Tests.Aggregation;

public class QFedAvgTests
{
    [Test]
    public void ConfigureFit_AsksClientsForTheirInitialLoss()
    {
        var config = new ConfigRecord();
        new QFedAvg().ConfigureFit(1, config);
        Assert.That(config.GetBoolean(ConfigKeys.ReportInitialLoss, false), Is.True);
    }

    [Test]
    public void Complete_QZero_IsTheUnweightedMean()
    {
        using ModelParameters global = RoundHelper.Vector(0, 0);
        float[] r = RoundHelper.Aggregate(new QFedAvg(q: 0), global, new[] { (new float[] { 1, 2 }, 1L), (new float[] { 3, 6 }, 99L) },
            metrics: i => new ConfigRecord { [ConfigKeys.InitialLoss] = 0.5 + i });
        Assert.That(r, Is.EqualTo(new float[] { 2, 4 }).Within(1e-5));
    }

    [Test]
    public void Complete_HigherQ_FavoursTheWorseClient()
    {
        using ModelParameters global = RoundHelper.Vector(0);
        var updates = new[] { (new float[] { 1 }, 1L), (new float[] { -1 }, 1L) };
        ConfigRecord Loss(int i) => new() { [ConfigKeys.InitialLoss] = i == 0 ? 2.0 : 0.5 };
        float fair = RoundHelper.Aggregate(new QFedAvg(q: 2, learningRate: 1), global, updates, metrics: Loss)[0];
        float plain = RoundHelper.Aggregate(new QFedAvg(q: 0, learningRate: 1), global, updates, metrics: Loss)[0];
        Assert.That(fair, Is.GreaterThan(plain), "the client with loss 2.0 pulls harder when q grows");
    }

    [Test]
    public void Add_NoLoss_Throws()
    {
        using ModelParameters global = RoundHelper.Vector(0);
        using IRoundAggregator r = new QFedAvg().BeginRound(global, new AggregationContext(1, 1));
        var ex = Assert.Throws<ArgumentException>(() => r.Add(new ClientUpdate("x", global, 1, ConfigRecord.Empty)));
        Assert.That(ex!.Message, Does.Contain(ConfigKeys.InitialLoss));
    }
}
