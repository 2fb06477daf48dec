using FederatedSharp.Aggregation;
using FederatedSharp.Clients;
using FederatedSharp.Parameters;
using FederatedSharp.Serialization;
using FederatedSharp.Tests.TestUtilities;

namespace FederatedSharp.Tests.Aggregation;

public class AggregatorStateTests
{
    public static IEnumerable<TestCaseData> Stateful()
    {
        yield return new TestCaseData((Func<IStatefulAggregator>)(() => new FedAvgM(0.5, 0.9))).SetName("Resume_FedAvgM_BitIdentical");
        yield return new TestCaseData((Func<IStatefulAggregator>)(() => new FedAdagrad())).SetName("Resume_FedAdagrad_BitIdentical");
        yield return new TestCaseData((Func<IStatefulAggregator>)(() => new FedAdam())).SetName("Resume_FedAdam_BitIdentical");
        yield return new TestCaseData((Func<IStatefulAggregator>)(() => new FedYogi())).SetName("Resume_FedYogi_BitIdentical");
        yield return new TestCaseData((Func<IStatefulAggregator>)(() => new Scaffold(0.8))).SetName("Resume_Scaffold_BitIdentical");
    }

    [TestCaseSource(nameof(Stateful))]
    public void ImportState_AfterTwoRoundsThroughBytes_ContinuesBitIdentically(Func<IStatefulAggregator> create)
    {
        var layout = TensorLayout.Create(new TensorSpec("w", 37), new TensorSpec("b", 3));
        IStatefulAggregator uninterrupted = create();
        IStatefulAggregator first = create();
        using ModelParameters a = TestModels.Random(layout, 1);
        using ModelParameters b = TestModels.Random(layout, 1);
        for (int round = 1; round <= 4; round++)
        {
            if (round == 3)
            {
                byte[] bytes = first.ExportState().ToBytes();
                first = create();
                first.ImportState(AggregatorState.FromBytes(bytes));
            }

            float[] x = Step(uninterrupted, a, round);
            float[] y = Step(first, b, round);
            Assert.That(y, Is.EqualTo(x), $"round {round}");
            x.CopyTo(a.Values);
            y.CopyTo(b.Values);
        }
    }

    [Test]
    public void ImportState_FromAnotherStrategy_Throws()
    {
        var state = new FedAdam().ExportState();
        var ex = Assert.Throws<ArgumentException>(() => new FedYogi().ImportState(state));
        Assert.That(ex!.Message, Does.Contain("FedAdam").And.Contain("FedYogi"));
    }

    [Test]
    public void FromBytes_Truncated_ThrowsModelFormat()
    {
        var adam = new FedAdam();
        using ModelParameters g = TestModels.Random(TestModels.SmallLayout, 1);
        Step(adam, g, 1);
        byte[] bytes = adam.ExportState().ToBytes();
        Assert.Throws<ModelFormatException>(() => AggregatorState.FromBytes(bytes.AsSpan(0, bytes.Length - 5)));
    }

    private static float[] Step(IAggregator aggregator, ModelParameters global, int round)
    {
        var random = new DeterministicRandom((ulong)round);
        var serializer = new BinaryModelSerializer();
        var config = new ConfigRecord();
        aggregator.ConfigureFit(round, config);
        using IRoundAggregator r = aggregator.BeginRound(global, new AggregationContext(round, 3, 5));
        for (int c = 0; c < 3; c++)
        {
            using ModelParameters update = TestModels.Random(global.Layout, DeterministicRandom.Mix((ulong)round, (ulong)c));
            using ModelParameters delta = TestModels.Random(global.Layout, DeterministicRandom.Mix((ulong)round, (ulong)c, 7), 0.1f);
            var metrics = new ConfigRecord { [ConfigKeys.ScaffoldControlDelta] = ConfigValue.FromBytes(serializer.SerializeToArray(delta)) };
            r.Add(new ClientUpdate($"c{c}", update, 1 + random.Next(10), metrics));
        }

        using ModelParameters result = r.Complete();
        return result.Values.ToArray();
    }
}
