using FederatedSharp.Aggregation;
using FederatedSharp.Parameters;
using FederatedSharp.Server;
using FederatedSharp.Server.Checkpoints;
using FederatedSharp.Tests.TestUtilities;
using FederatedSharp.Transport.InMemory;

namespace FederatedSharp.Tests.Server.Features.BufferedAsync;

/// <summary>FedBuff on the round engine: through the strategy, checkpointed, with quarantine and evaluation.</summary>
public class BufferedAsyncRoundsTests
{
    private TempDirectory _temp = null!;

    [SetUp]
    public void SetUp() => _temp = new TempDirectory("fs-fedbuff-");

    [TearDown]
    public void TearDown() => _temp.Dispose();

    [Test]
    public async Task RunFitAsync_FedAdamStrategy_AppliesAdamsServerStepToTheBufferedMean()
    {
        // Plain FedBuff (FedAvg, eta 1) moves the model by exactly each version's staleness-weighted buffer mean d_v;
        // the shift clients' deltas do not depend on their start model, and the schedule is seeded, so the FedAdam run
        // sees the same d_v. By hand, Adam on d_v: m = b1 m + (1 - b1) d, v = b2 v + (1 - b2) d^2, w += eta m / (sqrt v + tau).
        List<float> plain = await VersionsAsync(new FedAvg());
        List<float> adam = await VersionsAsync(new FedAdam(eta: 0.1, beta1: 0.9, beta2: 0.99, tau: 1e-9));

        double w = 0, m = 0, v = 0;
        var expected = new List<double>();
        for (int i = 0; i < plain.Count; i++)
        {
            double d = plain[i] - (i == 0 ? 0 : plain[i - 1]);
            m = (0.9 * m) + (0.1 * d);
            v = (0.99 * v) + (0.01 * d * d);
            w += 0.1 * m / (Math.Sqrt(v) + 1e-9);
            expected.Add(w);
        }

        var deltas = plain.Select((p, i) => p - (i == 0 ? 0 : plain[i - 1])).ToArray();
        Assert.Multiple(() =>
        {
            Assert.That(adam, Is.EqualTo(expected).Within(1e-5));
            Assert.That(deltas.Distinct().Count(), Is.GreaterThan(1), "staleness weights made the buffer means differ");
            Assert.That(adam[^1], Is.Not.EqualTo(plain[^1]).Within(0.1), "the strategy's step was applied, not FedBuff's own");
        });
    }

    private static async Task<List<float>> VersionsAsync(IAggregator strategy)
    {
        await using var transport = new InMemoryTransport();
        transport.AddClient("a", new ShiftClient(1, 10));
        transport.AddClient("b", new ShiftClient(3, 30));
        using ModelParameters initial = TestModels.Filled(TestModels.SmallLayout, 0);
        var versions = new List<float>();
        using FederationResult result = await new FederatedServerBuilder().UseTransport(transport).UseAggregator(strategy)
            .WithInitialParameters(initial)
            .Configure(o => { o.Rounds = 6; o.FractionEvaluate = 0; o.Seed = 3; })
            .WithCentralizedEvaluation((_, model, _) =>
            {
                versions.Add(model.Values[0]);
                return Task.FromResult(new FederatedSharp.Clients.EvaluateResult(0, 1));
            })
            .UseBufferedAsynchronousAggregation(f => { f.BufferSize = 2; f.Concurrency = 2; })
            .Build().RunAsync().WithTimeout();
        Assert.That(result.Parameters.Values.ToArray(), Is.All.EqualTo(versions[^1]));
        return versions;
    }

    [TestCase(4)]
    [TestCase(7)]
    public async Task RunAsync_KilledAfterUpdate12Of30AndResumed_BitIdenticalToUninterrupted(int killAfterVersion)
    {
        var layout = TensorLayout.Create(new TensorSpec("w", 500), new TensorSpec("b", 5));
        using ModelParameters initial = TestModels.Random(layout, 11);
        FederatedServer Server(InMemoryTransport transport, bool checkpoints)
        {
            FederatedServerBuilder builder = new FederatedServerBuilder().UseTransport(transport).UseAggregator(new FedAdam())
                .WithInitialParameters(initial)
                .Configure(o => { o.Rounds = 10; o.Seed = 5; o.MinEvaluateClients = 1; })
                .UseBufferedAsynchronousAggregation(f => { f.BufferSize = 3; f.Concurrency = 4; f.ServerLearningRate = 1; });
            return (checkpoints ? builder.UseCheckpointStore(new FileCheckpointStore(_temp.Path)) : builder).Build();
        }

        InMemoryTransport NewTransport()
        {
            var transport = new InMemoryTransport(new InMemoryTransportOptions { MaxConcurrency = 2 });
            for (int i = 0; i < 6; i++)
            {
                transport.AddClient($"c{i}", new NoisyClient(i, 0.5f));
            }

            return transport;
        }

        FederationResult reference;
        await using (InMemoryTransport transport = NewTransport())
        {
            reference = await Server(transport, checkpoints: false).RunAsync().WithTimeout();
        }

        // 10 versions of 3 updates: killed once version 4 (update 12 of 30) is checkpointed, with work in flight.
        await using (InMemoryTransport transport = NewTransport())
        {
            using var kill = new CancellationTokenSource();
            var progress = new InlineProgress<RoundReport>(r =>
            {
                if (r.Round == killAfterVersion)
                {
                    kill.Cancel();
                }
            });
            Assert.That(async () => await Server(transport, checkpoints: true).RunAsync(progress, kill.Token).WithTimeout(), Throws.InstanceOf<OperationCanceledException>());
        }

        using (reference)
        await using (InMemoryTransport transport = NewTransport())
        {
            using FederationResult resumed = await Server(transport, checkpoints: true).RunAsync().WithTimeout();
            Assert.That(resumed.Parameters.Values.ToArray(), Is.EqualTo(reference.Parameters.Values.ToArray()));
            Assert.That(resumed.History.Rounds, Has.Count.EqualTo(10));
            for (int i = 0; i < 10; i++)
            {
                RoundRecord a = resumed.History.Rounds[i];
                RoundRecord e = reference.History.Rounds[i];
                Assert.Multiple(() =>
                {
                    Assert.That(a.FitClients, Is.EqualTo(e.FitClients), $"version {i + 1}");
                    Assert.That(a.FitResults.Select(r => r.ClientId), Is.EqualTo(e.FitResults.Select(r => r.ClientId)));
                    Assert.That(a.DistributedLoss, Is.EqualTo(e.DistributedLoss));
                    Assert.That(a.FitMetrics.ToString(), Is.EqualTo(e.FitMetrics.ToString()));
                    Assert.That(a.Failures, Is.EqualTo(e.Failures));
                });
            }
        }
    }

    [Test]
    public async Task RunAsync_ClientFailingRepeatedly_IsQuarantinedAndOthersEvaluate()
    {
        await using var transport = new InMemoryTransport();
        for (int i = 0; i < 3; i++)
        {
            transport.AddClient($"c{i}", new ShiftClient(1, 10));
        }

        transport.AddClient("crashy", new ThrowingClient());
        using ModelParameters initial = TestModels.Filled(TestModels.SmallLayout, 0);

        using FederationResult result = await new FederatedServerBuilder().UseTransport(transport).UseAggregator(new FedAvg()).WithInitialParameters(initial)
            .Configure(o => { o.Rounds = 8; o.QuarantineAfterFailures = 1; o.QuarantineRounds = 100; o.MinEvaluateClients = 1; })
            .UseBufferedAsynchronousAggregation(f => { f.BufferSize = 2; f.Concurrency = 4; })
            .Build().RunAsync().WithTimeout();

        // FedBuff re-dispatches a client as soon as it finishes, so crashy may fail again (work already in flight) in the
        // version after its first failure; then quarantine, applied at each version boundary, keeps it out.
        int[] crashyFits = result.History.Rounds.Select(r => r.Failures.Count(f => f.ClientId == "crashy" && f.Phase == RoundPhase.Fit)).ToArray();
        Assert.Multiple(() =>
        {
            int first = Array.FindIndex(crashyFits, c => c > 0);
            Assert.That(first, Is.InRange(0, 2));
            Assert.That(crashyFits.Skip(first + 2), Is.All.EqualTo(0), "quarantined after its first failed version");
            Assert.That(result.History.Rounds.All(r => r.DistributedLoss is not null), Is.True, "distributed evaluation runs in FedBuff");
            Assert.That(result.History.Rounds.All(r => r.EvaluateResults.Count > 0), Is.True);
        });
    }

    [Test]
    public async Task RunAsync_CentralizedEvaluatorThrows_RecordedAndFederationGoesOn()
    {
        await using var transport = new InMemoryTransport();
        transport.AddClient("a", new ShiftClient(1, 10));
        transport.AddClient("b", new ShiftClient(1, 10));
        using ModelParameters initial = TestModels.Filled(TestModels.SmallLayout, 0);

        using FederationResult result = await new FederatedServerBuilder().UseTransport(transport).UseAggregator(new FedAvg()).WithInitialParameters(initial)
            .Configure(o => { o.Rounds = 3; o.FractionEvaluate = 0; })
            .WithCentralizedEvaluation((round, _, _) => round == 2 ? throw new IOException("disk gone") : Task.FromResult(new FederatedSharp.Clients.EvaluateResult(0.5, 1)))
            .UseBufferedAsynchronousAggregation(f => { f.BufferSize = 2; f.Concurrency = 2; })
            .Build().RunAsync().WithTimeout();

        Assert.Multiple(() =>
        {
            Assert.That(result.History.Rounds, Has.Count.EqualTo(3));
            Assert.That(result.History.Rounds[1].CentralizedEvaluationError, Does.Contain("disk gone"));
            Assert.That(result.History.Rounds[2].CentralizedLoss, Is.EqualTo(0.5));
        });
    }
}

public class BufferedAsyncCheckpointCompatibilityTests
{
    [Test]
    public async Task RunAsync_SynchronousCheckpointResumedAsFedBuff_RefusedClearly()
    {
        using var temp = new TempDirectory("fs-fedbuff-sync-");
        using ModelParameters initial = TestModels.Filled(TestModels.SmallLayout, 0);
        FederatedServerBuilder Builder(InMemoryTransport transport) => new FederatedServerBuilder().UseTransport(transport).UseAggregator(new FedAvg())
            .WithInitialParameters(initial).Configure(o => o.Rounds = 2).UseCheckpointStore(new FileCheckpointStore(temp.Path));
        await using (var transport = new InMemoryTransport())
        {
            transport.AddClient("a", new ShiftClient(1, 10));
            transport.AddClient("b", new ShiftClient(1, 10));
            using FederationResult first = await Builder(transport).Build().RunAsync().WithTimeout();
        }

        await using (var transport = new InMemoryTransport())
        {
            transport.AddClient("a", new ShiftClient(1, 10));
            transport.AddClient("b", new ShiftClient(1, 10));
            var ex = await Assert.ThrowsAsync<CheckpointException>(() => Builder(transport).UseBufferedAsynchronousAggregation().Build().RunAsync());
            Assert.That(ex!.Message, Does.Contain("different federation configuration"));
        }
    }
}
