using FederatedSharp.Aggregation;
using FederatedSharp.Parameters;
using FederatedSharp.Privacy;
using FederatedSharp.Server;
using FederatedSharp.Server.Checkpoints;
using FederatedSharp.Tests.TestUtilities;
using FederatedSharp.Transport.InMemory;

namespace FederatedSharp.Tests.Server.Features.CentralDp;

/// <summary>Central DP as update stages: with FedAvg it is DpFedAvg; with FedAdam, the median or Krum it still applies.</summary>
public class CentralDpFeatureTests
{
    private static DpFedAvgOptions Dp(double z = 1.0, double clip = 0.5, ulong seed = 7) =>
        new() { NoiseMultiplier = z, ClipNorm = clip, TotalClients = 10, Seed = seed };

    private static InMemoryTransport Transport(bool equalWeights = false)
    {
        var transport = new InMemoryTransport();
        for (int i = 0; i < 5; i++)
        {
            transport.AddClient($"c{i}", new NoisyClient(i, 0.4f));
            if (equalWeights)
            {
                transport.RemoveClient($"c{i}");
                transport.AddClient($"c{i}", new ShiftClient(0.1f * (i + 1), 10));
            }
        }

        return transport;
    }

    private static async Task<FederationResult> RunAsync(IAggregator strategy, Func<FederatedServerBuilder, FederatedServerBuilder> features, int rounds = 3, bool equalWeights = false, ICheckpointStore? store = null, CancellationToken cancellationToken = default, IProgress<RoundReport>? progress = null)
    {
        await using InMemoryTransport transport = Transport(equalWeights);
        using ModelParameters initial = TestModels.Random(TensorLayout.Create(new TensorSpec("w", 300)), 3, 0.1f);
        FederatedServerBuilder builder = features(new FederatedServerBuilder().UseTransport(transport).UseAggregator(strategy).WithInitialParameters(initial)
            .Configure(o => { o.Rounds = rounds; o.MinAvailableClients = 5; o.MinFitClients = 3; o.Seed = 2; }));
        if (store is not null)
        {
            builder.UseCheckpointStore(store);
        }

        return await builder.Build().RunAsync(progress, cancellationToken).WithTimeout();
    }

    [Test]
    public async Task RunAsync_FedAvgWithCentralDp_EqualsDpFedAvg()
    {
        using FederationResult stage = await RunAsync(new FedAvg(), b => b.UseCentralDp(Dp()));
        using FederationResult strategy = await RunAsync(new DpFedAvg(Dp()), b => b);

        Assert.Multiple(() =>
        {
            Assert.That(stage.Parameters.Values.ToArray(), Is.EqualTo(strategy.Parameters.Values.ToArray()).Within(1e-6));
            Assert.That(stage.History.Rounds.Select(r => r.AggregatorMetrics["dp_epsilon"].AsDouble()),
                Is.EqualTo(strategy.History.Rounds.Select(r => r.AggregatorMetrics["dp_epsilon"].AsDouble())));
            Assert.That(stage.History.Rounds.Select(r => r.AggregatorMetrics["dp_clipped_fraction"].AsDouble()),
                Is.EqualTo(strategy.History.Rounds.Select(r => r.AggregatorMetrics["dp_clipped_fraction"].AsDouble())));
        });
    }

    [Test]
    public async Task RunAsync_FedAdamWithNegligibleNoiseAndLooseClip_IsFedAdamWithEqualWeights()
    {
        using FederationResult dp = await RunAsync(new FedAdam(), b => b.UseCentralDp(Dp(z: 1e-9, clip: 100)), equalWeights: true);
        using FederationResult plain = await RunAsync(new FedAdam(), b => b, equalWeights: true);

        Assert.Multiple(() =>
        {
            Assert.That(dp.Parameters.Values.ToArray(), Is.EqualTo(plain.Parameters.Values.ToArray()).Within(1e-4));
            double[] epsilon = dp.History.Rounds.Select(r => r.AggregatorMetrics["dp_epsilon"].AsDouble()).ToArray();
            Assert.That(epsilon, Is.Ordered.Ascending);
            Assert.That(epsilon[0], Is.GreaterThan(0));
        });
    }

    [Test]
    public async Task RunAsync_FedAdamWithNoise_NoiseReachesTheServerStep()
    {
        using FederationResult dp = await RunAsync(new FedAdam(), b => b.UseCentralDp(Dp(z: 5, clip: 0.1)), equalWeights: true);
        using FederationResult plain = await RunAsync(new FedAdam(), b => b, equalWeights: true);

        double largest = dp.Parameters.Values.ToArray().Zip(plain.Parameters.Values.ToArray(), (a, b) => Math.Abs(a - b)).Max();
        Assert.That(largest, Is.GreaterThan(1e-3));
    }

    [TestCase("fedmedian")]
    [TestCase("krum")]
    public async Task RunAsync_OrderStatisticStrategy_NoisePerUpdateAndEpsilonReported(string name)
    {
        IAggregator strategy = name == "krum" ? new Krum(byzantineClients: 1) : new FedMedian();
        using FederationResult dp = await RunAsync(strategy, b => b.UseCentralDp(Dp(z: 1, clip: 0.5)));
        using FederationResult plain = await RunAsync(name == "krum" ? new Krum(byzantineClients: 1) : new FedMedian(), b => b);

        Assert.Multiple(() =>
        {
            Assert.That(dp.History.Rounds.All(r => r.Succeeded), Is.True);
            Assert.That(dp.History.Rounds[^1].AggregatorMetrics["dp_epsilon"].AsDouble(), Is.GreaterThan(0));
            Assert.That(dp.History.Rounds[0].AggregatorMetrics["dp_noise_stddev"].AsDouble(), Is.EqualTo(0.5), "z C on each update");
            Assert.That(dp.Parameters.Values.ToArray(), Is.Not.EqualTo(plain.Parameters.Values.ToArray()));
        });
    }

    [Test]
    public async Task Build_NoiseOnTheAggregateWithTheMedian_RefusedClearly()
    {
        var ex = await Assert.ThrowsAsync<ArgumentException>(async () => await RunAsync(new FedMedian(), b => b.UseCentralDp(Dp(), CentralDpNoisePlacement.Aggregate)));
        Assert.That(ex!.Message, Does.Contain("FedMedian needs every individual update").And.Contain("PerUpdate"));
    }

    [Test]
    public async Task RunAsync_HugeUpdate_ClippedBeforeTheStrategySeesIt()
    {
        using FederationResult dp = await RunAsync(new FedAvg(), b => b.UseCentralDp(Dp(z: 1e-9, clip: 1e-3)));

        // Five clients each move at most 1e-3 (L2) per round, equal weights, 3 rounds: the model moves at most 3e-3.
        using ModelParameters initial = TestModels.Random(TensorLayout.Create(new TensorSpec("w", 300)), 3, 0.1f);
        double moved = Math.Sqrt(dp.Parameters.Values.ToArray().Zip(initial.Values.ToArray(), (a, b) => (a - b) * (double)(a - b)).Sum());
        Assert.Multiple(() =>
        {
            Assert.That(moved, Is.LessThanOrEqualTo(3e-3 * 1.0001));
            Assert.That(dp.History.Rounds[0].AggregatorMetrics["dp_clipped_fraction"].AsDouble(), Is.EqualTo(1));
        });
    }

    [Test]
    public async Task RunAsync_KilledAndResumed_AccountantContinuesExactly()
    {
        using var temp = new TempDirectory("fs-dp-");
        using FederationResult reference = await RunAsync(new FedAdam(), b => b.UseCentralDp(Dp()), rounds: 4);

        using (var kill = new CancellationTokenSource())
        {
            var progress = new InlineProgress<RoundReport>(r =>
            {
                if (r.Round == 2)
                {
                    kill.Cancel();
                }
            });
            Assert.That(async () => await RunAsync(new FedAdam(), b => b.UseCentralDp(Dp()), rounds: 4, store: new FileCheckpointStore(temp.Path), cancellationToken: kill.Token, progress: progress),
                Throws.InstanceOf<OperationCanceledException>());
        }

        using FederationResult resumed = await RunAsync(new FedAdam(), b => b.UseCentralDp(Dp()), rounds: 4, store: new FileCheckpointStore(temp.Path));
        Assert.Multiple(() =>
        {
            Assert.That(resumed.Parameters.Values.ToArray(), Is.EqualTo(reference.Parameters.Values.ToArray()));
            Assert.That(resumed.History.Rounds.Select(r => r.AggregatorMetrics["dp_epsilon"].AsDouble()),
                Is.EqualTo(reference.History.Rounds.Select(r => r.AggregatorMetrics["dp_epsilon"].AsDouble())));
        });
    }
}
