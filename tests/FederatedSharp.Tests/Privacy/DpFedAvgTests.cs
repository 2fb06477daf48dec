using FederatedSharp.Aggregation;
using FederatedSharp.Clients;
using FederatedSharp.Parameters;
using FederatedSharp.Privacy;
using FederatedSharp.Server;
using FederatedSharp.Tests.TestUtilities;
using FederatedSharp.Transport.InMemory;

namespace FederatedSharp.Tests.Privacy;

public class DpFedAvgTests
{
    private static DpFedAvg Create(double z, double clip, bool adaptive = false, ulong seed = 1) =>
        new(new DpFedAvgOptions { NoiseMultiplier = z, ClipNorm = clip, AdaptiveClipping = adaptive, ClippedCountStddev = adaptive ? 2 : null, TotalClients = 10, Seed = seed });

    private static float[] Round(DpFedAvg dp, ModelParameters global, IReadOnlyList<float[]> updates, int round = 1)
    {
        using IRoundAggregator r = dp.BeginRound(global, new AggregationContext(round, updates.Count, 10));
        foreach (float[] u in updates)
        {
            using var p = ModelParameters.FromValues(global.Layout, u);
            r.Add(new ClientUpdate("c", p, 1000, ConfigRecord.Empty));
        }

        using ModelParameters result = r.Complete();
        return result.Values.ToArray();
    }

    [Test]
    public void Complete_NegligibleNoiseAndLooseClip_IsTheUnweightedMean()
    {
        using ModelParameters global = RoundHelper.Vector(1, 1);
        float[] r = Round(Create(1e-9, 100), global, new[] { new float[] { 2, 3 }, new float[] { 4, 1 } });
        Assert.That(r, Is.EqualTo(new float[] { 3, 2 }).Within(1e-5));
    }

    [Test]
    public void Complete_HugeUpdate_ClippedToTheNorm()
    {
        using ModelParameters global = RoundHelper.Vector(0, 0);
        float[] r = Round(Create(1e-9, 1), global, new[] { new float[] { 300, 400 }, new float[] { 0, 0 } });
        Assert.That(r, Is.EqualTo(new float[] { 0.3f, 0.4f }).Within(1e-5), "the (300, 400) update counts as (0.6, 0.8), then the mean over 2 clients");
    }

    [Test]
    public void Complete_NoiseStandardDeviation_IsZTimesClipOverClients()
    {
        var layout = TensorLayout.Create(new TensorSpec("w", 40_000));
        using ModelParameters global = ModelParameters.Create(layout);
        float[] zero = new float[40_000];
        float[] r = Round(Create(2, 1), global, new[] { zero, zero, zero, zero });
        double mean = r.Average(v => (double)v);
        double std = Math.Sqrt(r.Sum(v => (v - mean) * (v - mean)) / (r.Length - 1));
        Assert.Multiple(() =>
        {
            Assert.That(std, Is.EqualTo(2.0 * 1 / 4).Within(2).Percent);
            Assert.That(mean, Is.EqualTo(0).Within(0.01));
        });
    }

    [Test]
    public void Complete_AdaptiveClipping_ClipNormMovesToTheMedianUpdateNorm()
    {
        var dp = Create(1.0, 10, adaptive: true);
        using ModelParameters global = RoundHelper.Vector(0, 0);
        var updates = Enumerable.Range(0, 10).Select(i => new float[] { 0.6f + (i * 0.08f), 0 }).ToArray(); // norms 0.6 .. 1.32, median ~0.96
        for (int round = 1; round <= 60; round++)
        {
            Round(dp, global, updates, round);
        }

        Assert.That(dp.ClipNorm, Is.InRange(0.5, 1.6));
    }

    [Test]
    public void Complete_SameSeed_SameNoise()
    {
        using ModelParameters global = RoundHelper.Vector(0, 0, 0);
        var updates = new[] { new float[] { 1, 2, 3 }, new float[] { 3, 2, 1 } };
        float[] first = Round(Create(1, 1, seed: 5), global, updates);
        float[] again = Round(Create(1, 1, seed: 5), global, updates);
        float[] other = Round(Create(1, 1, seed: 6), global, updates);
        Assert.That(again, Is.EqualTo(first));
        Assert.That(other, Is.Not.EqualTo(first));
    }

    [Test]
    public async Task RunAsync_DpFedAvg_ReportsEpsilonEachRoundAsTheAccountantComputesIt()
    {
        await using var transport = new InMemoryTransport();
        for (int i = 0; i < 10; i++)
        {
            transport.AddClient($"c{i}", new NoisyClient(i, 0.1f));
        }

        using ModelParameters initial = TestModels.Filled(TestModels.SmallLayout, 0);
        var dp = new DpFedAvg(new DpFedAvgOptions { NoiseMultiplier = 1.1, ClipNorm = 0.5, TotalClients = 10 });
        using FederationResult result = await new FederatedServerBuilder().UseTransport(transport).UseAggregator(dp).WithInitialParameters(initial)
            .Configure(o =>
            {
                o.Rounds = 5;
                o.FractionFit = 0.5;
                o.FractionEvaluate = 0;
            }).Build().RunAsync().WithTimeout();

        double[] epsilons = result.History.Rounds.Select(r => r.AggregatorMetrics.GetDouble("dp_epsilon", double.NaN)).ToArray();
        double[] pld = result.History.Rounds.Select(r => r.AggregatorMetrics.GetDouble("dp_epsilon_pld", double.NaN)).ToArray();
        var accountant = new RdpAccountant();
        accountant.Step(0.5, 1.1, 5);
        var reference = new PldAccountant(1e-3);
        reference.Step(0.5, 1.1, 5);
        Assert.Multiple(() =>
        {
            Assert.That(epsilons, Is.Ordered.Ascending);
            Assert.That(epsilons[^1], Is.EqualTo(accountant.GetPrivacySpent(1e-5).Epsilon).Within(1e-9));
            Assert.That(pld, Is.Ordered.Ascending);
            Assert.That(pld[^1], Is.EqualTo(reference.GetEpsilon(1e-5)).Within(1e-9), "both epsilons in every round's metrics");
            Assert.That(pld.Zip(epsilons), Has.All.Matches<(double Pld, double Rdp)>(p => p.Pld <= p.Rdp), "PLD is the tighter bound");
            Assert.That(result.History.Rounds[0].AggregatorMetrics.GetDouble("dp_noise_stddev", 0), Is.EqualTo(1.1 * 0.5 / 5).Within(1e-12));
        });
    }

    [Test]
    public void Complete_AdaptiveWithTooLittleCountNoise_ThrowsExplainingTheRule()
    {
        var dp = new DpFedAvg(new DpFedAvgOptions { NoiseMultiplier = 1, AdaptiveClipping = true, TotalClients = 10 });
        using ModelParameters global = RoundHelper.Vector(0);
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => Round(dp, global, Enumerable.Range(0, 10).Select(_ => new float[] { 1 }).ToArray()));
        Assert.That(ex!.Message, Does.Contain("(2 sigma_b)^-2"));
    }

    [Test]
    public void Options_MissingTotalClients_Throws()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => _ = new DpFedAvg(new DpFedAvgOptions()));
    }
}
