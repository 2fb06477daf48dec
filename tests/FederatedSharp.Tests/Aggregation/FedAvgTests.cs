using FederatedSharp.Aggregation;
using FederatedSharp.Clients;
using FederatedSharp.Parameters;
using FederatedSharp.Tests.TestUtilities;

namespace FederatedSharp.Tests.Aggregation;

[Category("Kernels")]
public class FedAvgTests
{
    public static IEnumerable<TestCaseData> Cases()
    {
        foreach (int length in new[] { 0, 1, 7, 8, 15, 16, 17, 31, 33, 64, 100, 255, 256, 1_000_003 })
        {
            foreach (int clients in new[] { 1, 3, 7 })
            {
                yield return new TestCaseData(length, clients);
            }
        }
    }

    [TestCaseSource(nameof(Cases))]
    public void Complete_RandomUpdates_MatchesScalarDoubleReference(int length, int clients)
    {
        var layout = TensorLayout.Create(new TensorSpec("w", length));
        var random = new DeterministicRandom((ulong)((length * 31) + clients));
        using ModelParameters global = ModelParameters.Create(layout);
        var updates = Enumerable.Range(0, clients).Select(c => ModelParameters.FromValues(layout, TestModels.RandomArray(length, random, 5))).ToArray();
        long[] weights = Enumerable.Range(0, clients).Select(_ => (long)random.Next(1, 1000)).ToArray();
        try
        {
            double total = weights.Sum();
            double[] expected = new double[length];
            for (int c = 0; c < clients; c++)
            {
                for (int i = 0; i < length; i++)
                {
                    expected[i] += weights[c] * (double)updates[c].Values[i] / total;
                }
            }

            using IRoundAggregator round = new FedAvg().BeginRound(global, new AggregationContext(1, clients));
            for (int c = 0; c < clients; c++)
            {
                round.Add(new ClientUpdate($"c{c}", updates[c], weights[c], ConfigRecord.Empty));
            }

            using ModelParameters result = round.Complete();
            for (int i = 0; i < length; i++)
            {
                Assert.That(result.Values[i], Is.EqualTo(expected[i]).Within(1e-5 * (1 + Math.Abs(expected[i]))), $"element {i}");
            }
        }
        finally
        {
            foreach (ModelParameters u in updates)
            {
                u.Dispose();
            }
        }
    }

    [Test]
    public void Complete_IdenticalModels_ReturnsThatModel()
    {
        using ModelParameters model = TestModels.Random(TestModels.SmallLayout, 5);
        using IRoundAggregator round = new FedAvg().BeginRound(model, new AggregationContext(1, 3));
        round.Add(new ClientUpdate("a", model, 3, ConfigRecord.Empty));
        round.Add(new ClientUpdate("b", model, 17, ConfigRecord.Empty));
        round.Add(new ClientUpdate("c", model, 1, ConfigRecord.Empty));
        using ModelParameters result = round.Complete();
        Assert.That(result.Values.ToArray(), Is.EqualTo(model.Values.ToArray()).Within(1e-6));
    }

    [Test]
    public void Complete_UpdatesPermuted_SameResultWithinRounding()
    {
        var layout = TensorLayout.Create(new TensorSpec("w", 513));
        var models = Enumerable.Range(0, 5).Select(i => TestModels.Random(layout, (ulong)i)).ToArray();
        long[] weights = { 5, 1, 9, 2, 7 };
        float[] Run(int[] order)
        {
            using IRoundAggregator round = new FedAvg().BeginRound(models[0], new AggregationContext(1, 5));
            foreach (int i in order)
            {
                round.Add(new ClientUpdate($"c{i}", models[i], weights[i], ConfigRecord.Empty));
            }

            using ModelParameters r = round.Complete();
            return r.Values.ToArray();
        }

        Assert.That(Run(new[] { 4, 2, 0, 3, 1 }), Is.EqualTo(Run(new[] { 0, 1, 2, 3, 4 })).Within(1e-5));
        foreach (ModelParameters m in models)
        {
            m.Dispose();
        }
    }

    [Test]
    public void Add_LayoutMismatch_ThrowsAndRoundStaysUsable()
    {
        using ModelParameters global = TestModels.Filled(TestModels.SmallLayout, 0);
        using ModelParameters good = TestModels.Filled(TestModels.SmallLayout, 2);
        using ModelParameters bad = ModelParameters.Create(TensorLayout.Create(new TensorSpec("fc.weight", 3, 2), new TensorSpec("fc.bias", 2)));
        using IRoundAggregator round = new FedAvg().BeginRound(global, new AggregationContext(1, 2));
        Assert.Throws<LayoutMismatchException>(() => round.Add(new ClientUpdate("bad", bad, 10, ConfigRecord.Empty)));
        round.Add(new ClientUpdate("good", good, 10, ConfigRecord.Empty));
        using ModelParameters result = round.Complete();
        Assert.That(result.Values.ToArray(), Is.All.EqualTo(2f));
    }

    [Test]
    public void Add_NonPositiveExampleCount_Throws()
    {
        using ModelParameters global = TestModels.Filled(TestModels.SmallLayout, 0);
        using IRoundAggregator round = new FedAvg().BeginRound(global, new AggregationContext(1, 1));
        Assert.Throws<ArgumentException>(() => round.Add(new ClientUpdate("x", global, 0, ConfigRecord.Empty)));
    }

    [Test]
    public void Complete_NoUpdates_Throws()
    {
        using ModelParameters global = TestModels.Filled(TestModels.SmallLayout, 0);
        using IRoundAggregator round = new FedAvg().BeginRound(global, new AggregationContext(1, 1));
        Assert.Throws<InvalidOperationException>(() => round.Complete());
    }

    [Test]
    public void Add_AfterComplete_Throws()
    {
        using ModelParameters global = TestModels.Filled(TestModels.SmallLayout, 1);
        using IRoundAggregator round = new FedAvg().BeginRound(global, new AggregationContext(1, 1));
        round.Add(new ClientUpdate("x", global, 1, ConfigRecord.Empty));
        using ModelParameters result = round.Complete();
        Assert.Throws<InvalidOperationException>(() => round.Add(new ClientUpdate("x", global, 1, ConfigRecord.Empty)));
    }

    [Test]
    public void Add_ConcurrentFromManyThreads_EqualsSequentialWithinRounding()
    {
        var layout = TensorLayout.Create(new TensorSpec("w", 10_000));
        var models = Enumerable.Range(0, 32).Select(i => TestModels.Random(layout, (ulong)i)).ToArray();
        using IRoundAggregator concurrent = new FedAvg().BeginRound(models[0], new AggregationContext(1, 32));
        Parallel.For(0, 32, i => concurrent.Add(new ClientUpdate($"c{i}", models[i], i + 1, ConfigRecord.Empty)));
        using IRoundAggregator sequential = new FedAvg().BeginRound(models[0], new AggregationContext(1, 32));
        for (int i = 0; i < 32; i++)
        {
            sequential.Add(new ClientUpdate($"c{i}", models[i], i + 1, ConfigRecord.Empty));
        }

        using ModelParameters a = concurrent.Complete();
        using ModelParameters b = sequential.Complete();
        Assert.That(a.Values.ToArray(), Is.EqualTo(b.Values.ToArray()).Within(1e-4));
        foreach (ModelParameters m in models)
        {
            m.Dispose();
        }
    }

    [TestCase(1)]
    [TestCase(3)]
    [TestCase(64)]
    [TestCase(65)]
    [TestCase(150)]
    public void AddRange_AnyBatchingOfArrivals_BitIdenticalToOneAtATime(int clients)
    {
        // Small models gather up to 64 updates before folding them, so 65 and 150 fold groups mid-round.
        var layout = TensorLayout.Create(new TensorSpec("w", 1003));
        var random = new DeterministicRandom((ulong)clients);
        using ModelParameters global = ModelParameters.Create(layout);
        ModelParameters[] updates = Enumerable.Range(0, clients).Select(_ => ModelParameters.FromValues(layout, TestModels.RandomArray(1003, random, 3))).ToArray();
        ClientUpdate[] all = updates.Select((u, i) => new ClientUpdate($"c{i}", u, 1 + (i % 17), ConfigRecord.Empty)).ToArray();

        float[] oneByOne = Aggregate(round => Array.ForEach(all, round.Add));
        float[] together = Aggregate(round => round.AddRange(all));
        float[] batched = Aggregate(round =>
        {
            for (int i = 0; i < all.Length;)
            {
                int size = 1 + random.Next(9);
                round.AddRange(all.Skip(i).Take(size).ToArray());
                i += size;
            }
        });

        // The documented order: each coordinate's weighted values added in arrival order in float, then scaled once.
        var sequential = new float[1003];
        double total = all.Sum(u => (double)u.ExampleCount);
        for (int p = 0; p < sequential.Length; p++)
        {
            float acc = updates[0].Values[p] * all[0].ExampleCount;
            for (int k = 1; k < clients; k++)
            {
                acc += updates[k].Values[p] * (float)all[k].ExampleCount;
            }

            sequential[p] = acc * (float)(1.0 / total);
        }

        Assert.Multiple(() =>
        {
            Assert.That(oneByOne, Is.EqualTo(sequential), "one at a time, against the scalar float sequence");
            Assert.That(together, Is.EqualTo(oneByOne), "AddRange of all");
            Assert.That(batched, Is.EqualTo(oneByOne), "random batches");
        });
        foreach (ModelParameters u in updates)
        {
            u.Dispose();
        }

        float[] Aggregate(Action<IRoundAggregator> add)
        {
            using IRoundAggregator round = new FedAvg().BeginRound(global, new AggregationContext(1, clients, clients));
            add(round);
            using ModelParameters result = round.Complete();
            return result.Values.ToArray();
        }
    }

    [Test]
    public void Add_CallerDisposesUpdatesAndThePoolHandsTheirBuffersOut_ResultUnchanged()
    {
        // FedAvg holds the newest arrivals without copies until it folds them.
        float[] result = DisposedUpdates.Aggregate(new FedAvg(), 4, k => k + 1);

        Assert.That(result, Has.All.EqualTo(2.5f));
    }
}
