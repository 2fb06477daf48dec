using FederatedSharp.Aggregation;
using FederatedSharp.Clients;
using FederatedSharp.Parameters;
using FederatedSharp.Serialization;
using FederatedSharp.Tests.TestUtilities;

namespace FederatedSharp.Tests.Aggregation;

public class ScaffoldTests
{
    private static readonly BinaryModelSerializer Serializer = new();

    private static ConfigRecord Delta(params float[] values)
    {
        using ModelParameters p = RoundHelper.Vector(values);
        return new ConfigRecord { [ConfigKeys.ScaffoldControlDelta] = ConfigValue.FromBytes(Serializer.SerializeToArray(p)) };
    }

    [Test]
    public void ConfigureFit_FirstRound_SendsEmptyControlThenTheServerVariate()
    {
        var scaffold = new Scaffold();
        var first = new ConfigRecord();
        scaffold.ConfigureFit(1, first);
        Assert.That(first[ConfigKeys.ScaffoldServerControl].AsBytes().Length, Is.EqualTo(0));

        using ModelParameters global = RoundHelper.Vector(0, 0);
        using IRoundAggregator r = scaffold.BeginRound(global, new AggregationContext(1, 2, 4));
        using (ModelParameters a = RoundHelper.Vector(1, 1))
        using (ModelParameters b = RoundHelper.Vector(3, 3))
        {
            r.Add(new ClientUpdate("a", a, 1, Delta(4, 0)));
            r.Add(new ClientUpdate("b", b, 1, Delta(0, 8)));
        }

        using ModelParameters result = r.Complete();
        var second = new ConfigRecord();
        scaffold.ConfigureFit(2, second);
        using ModelParameters c = Serializer.Deserialize(second[ConfigKeys.ScaffoldServerControl].AsBytes());
        Assert.Multiple(() =>
        {
            Assert.That(result.Values.ToArray(), Is.EqualTo(new float[] { 2, 2 }), "x + 1.0 (avg - x)");
            Assert.That(c.Values.ToArray(), Is.EqualTo(new float[] { 1, 2 }), "c + (1/N) sum dc, N = 4 available clients");
        });
    }

    [Test]
    public void Add_NoControlDelta_ThrowsNamingTheMetric()
    {
        using ModelParameters global = RoundHelper.Vector(0, 0);
        using IRoundAggregator r = new Scaffold().BeginRound(global, new AggregationContext(1, 1, 1));
        var ex = Assert.Throws<ArgumentException>(() => r.Add(new ClientUpdate("x", global, 1, ConfigRecord.Empty)));
        Assert.That(ex!.Message, Does.Contain(ConfigKeys.ScaffoldControlDelta));
    }

    [Test]
    public void Add_ControlDeltaWithWrongLayout_Throws()
    {
        using ModelParameters global = RoundHelper.Vector(0, 0);
        using IRoundAggregator r = new Scaffold().BeginRound(global, new AggregationContext(1, 1, 1));
        Assert.Throws<LayoutMismatchException>(() => r.Add(new ClientUpdate("x", global, 1, Delta(1, 2, 3))));
    }

    [Test]
    public void Add_CorruptControlDelta_ThrowsArgument()
    {
        using ModelParameters global = RoundHelper.Vector(0, 0);
        using IRoundAggregator r = new Scaffold().BeginRound(global, new AggregationContext(1, 1, 1));
        var bad = new ConfigRecord { [ConfigKeys.ScaffoldControlDelta] = ConfigValue.FromBytes(new byte[] { 1, 2, 3 }) };
        Assert.Throws<ArgumentException>(() => r.Add(new ClientUpdate("x", global, 1, bad)));
    }
}
