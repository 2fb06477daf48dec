using FederatedSharp.Aggregation;
using FederatedSharp.Clients;
using FederatedSharp.Parameters;
using FederatedSharp.Server;
using FederatedSharp.Server.Checkpoints;
using FederatedSharp.Tests.TestUtilities;
using FederatedSharp.Transport.InMemory;

namespace FederatedSharp.Tests.Server;

/// <summary>FederatedServer: checkpoint and resume, quarantine, round policies, stopping after repeated failures.</summary>
public class FederatedServerReliabilityTests
{
    private TempDirectory _temp = null!;

    private string Folder => _temp.Path;

    [SetUp]
    public void SetUp() => _temp = new TempDirectory("fs-resume-");

    [TearDown]
    public void TearDown() => _temp.Dispose();

    private static InMemoryTransport Transport(int clients)
    {
        var transport = new InMemoryTransport(new InMemoryTransportOptions { MaxConcurrency = 3 });
        for (int i = 0; i < clients; i++)
        {
            transport.AddClient($"c{i}", new NoisyClient(i, 0.5f));
        }

        return transport;
    }

    private FederatedServer Server(InMemoryTransport transport, IAggregator aggregator, ModelParameters initial, bool checkpoints, int rounds = 8) =>
        new FederatedServerBuilder()
            .UseTransport(transport)
            .UseAggregator(aggregator)
            .WithInitialParameters(initial)
            .Configure(o =>
            {
                o.Rounds = rounds;
                o.FractionFit = 0.6;
                o.MinFitClients = 2;
                o.Seed = 99;
            })
            .UseCheckpointStoreIf(checkpoints, new FileCheckpointStore(Folder))
            .Build();

    private static void AssertSameHistory(FederatedSharp.Server.History actual, FederatedSharp.Server.History expected)
    {
        Assert.That(actual.Rounds, Has.Count.EqualTo(expected.Rounds.Count));
        for (int i = 0; i < expected.Rounds.Count; i++)
        {
            RoundRecord a = actual.Rounds[i];
            RoundRecord e = expected.Rounds[i];
            Assert.Multiple(() =>
            {
                Assert.That(a.Round, Is.EqualTo(e.Round));
                Assert.That(a.Succeeded, Is.EqualTo(e.Succeeded));
                Assert.That(a.FitClients, Is.EqualTo(e.FitClients));
                Assert.That(a.EvaluateClients, Is.EqualTo(e.EvaluateClients));
                Assert.That(a.AggregatedUpdates, Is.EqualTo(e.AggregatedUpdates));
                Assert.That(a.DistributedLoss, Is.EqualTo(e.DistributedLoss), $"round {e.Round} loss, bit for bit");
                Assert.That(a.DistributedMetrics.ToString(), Is.EqualTo(e.DistributedMetrics.ToString()));
                Assert.That(a.FitMetrics.ToString(), Is.EqualTo(e.FitMetrics.ToString()));
                Assert.That(a.Failures, Is.EqualTo(e.Failures));
            });
        }
    }

    [TestCase("fedavg", 3)]
    [TestCase("fedadam", 3)]
    [TestCase("fedadam", 5)]
    public async Task RunAsync_KilledAfterRoundAndResumed_BitIdenticalToUninterrupted(string strategy, int killAfter)
    {
        var layout = TensorLayout.Create(new TensorSpec("w", 1000), new TensorSpec("b", 10));
        using ModelParameters initial = TestModels.Random(layout, 5);

        FederationResult reference;
        await using (InMemoryTransport transport = Transport(6))
        {
            reference = await Server(transport, Aggregators.Create(strategy), initial, checkpoints: false).RunAsync().WithTimeout();
        }

        // First life: killed (cancelled) right after round `killAfter` was checkpointed.
        await using (InMemoryTransport transport = Transport(6))
        {
            using var kill = new CancellationTokenSource();
            var progress = new Inline<RoundReport>(r =>
            {
                if (r.Round == killAfter)
                {
                    kill.Cancel();
                }
            });
            Assert.That(async () => await Server(transport, Aggregators.Create(strategy), initial, checkpoints: true).RunAsync(progress, kill.Token).WithTimeout(),
                Throws.InstanceOf<OperationCanceledException>());
        }

        // Second life: a new server, a new strategy instance, the same folder.
        using (reference)
        await using (InMemoryTransport transport = Transport(6))
        {
            using FederationResult resumed = await Server(transport, Aggregators.Create(strategy), initial, checkpoints: true).RunAsync().WithTimeout();
            Assert.That(resumed.Parameters.Values.ToArray(), Is.EqualTo(reference.Parameters.Values.ToArray()));
            AssertSameHistory(resumed.History, reference.History);
        }
    }

    [Test]
    public async Task RunAsync_CheckpointFromAnotherConfiguration_RefusedClearly()
    {
        using ModelParameters initial = TestModels.Random(TestModels.SmallLayout, 5);
        await using (InMemoryTransport transport = Transport(4))
        {
            using FederationResult first = await Server(transport, new FedAvg(), initial, checkpoints: true, rounds: 2).RunAsync().WithTimeout();
        }

        await using (InMemoryTransport transport = Transport(4))
        {
            var ex = await Assert.ThrowsAsync<CheckpointException>(() => Server(transport, new FedAdam(), initial, checkpoints: true, rounds: 3).RunAsync());
            Assert.That(ex!.Message, Does.Contain("different federation configuration"));
        }
    }

    [Test]
    public async Task RunAsync_NewestCheckpointCorrupt_ResumesFromThePreviousOne()
    {
        using ModelParameters initial = TestModels.Random(TestModels.SmallLayout, 5);
        FederationResult reference;
        await using (InMemoryTransport transport = Transport(4))
        {
            reference = await Server(transport, new FedAvg(), initial, checkpoints: false, rounds: 4).RunAsync().WithTimeout();
        }

        await using (InMemoryTransport transport = Transport(4))
        {
            using FederationResult partial = await Server(transport, new FedAvg(), initial, checkpoints: true, rounds: 3).RunAsync().WithTimeout();
        }

        string newest = new FileCheckpointStore(Folder).ListFiles()[0];
        byte[] bytes = await File.ReadAllBytesAsync(newest);
        await File.WriteAllBytesAsync(newest, bytes[..^20]);

        using (reference)
        await using (InMemoryTransport transport = Transport(4))
        {
            using FederationResult resumed = await Server(transport, new FedAvg(), initial, checkpoints: true, rounds: 4).RunAsync().WithTimeout();
            Assert.That(resumed.Parameters.Values.ToArray(), Is.EqualTo(reference.Parameters.Values.ToArray()), "round 3 re-run from round 2's checkpoint");
        }
    }

    [Test]
    public async Task RunAsync_ClientFailsRepeatedly_QuarantinedThenReadmitted()
    {
        await using var transport = new InMemoryTransport();
        transport.AddClient("good1", new ShiftClient(1, 10));
        transport.AddClient("good2", new ShiftClient(1, 10));
        transport.AddClient("bad", new ThrowingClient());
        using ModelParameters initial = TestModels.Filled(TestModels.SmallLayout, 0);

        using FederationResult result = await new FederatedServerBuilder().UseTransport(transport).UseAggregator(new FedAvg()).WithInitialParameters(initial)
            .Configure(o =>
            {
                o.Rounds = 7;
                o.QuarantineAfterFailures = 2;
                o.QuarantineRounds = 3;
                o.FractionEvaluate = 0;
            }).Build().RunAsync().WithTimeout();

        bool[] sampled = result.History.Rounds.Select(r => r.FitClients.Contains("bad")).ToArray();
        Assert.That(sampled, Is.EqualTo(new[] { true, true, false, false, false, true, true }));
    }

    [Test]
    public async Task RunAsync_EveryRoundFails_StopsWithClearErrorAfterLimit()
    {
        await using var transport = new InMemoryTransport();
        transport.AddClient("a", new ThrowingClient());
        transport.AddClient("b", new ThrowingClient());
        using ModelParameters initial = TestModels.Filled(TestModels.SmallLayout, 0);

        var ex = await Assert.ThrowsAsync<FederationFailedException>(() => new FederatedServerBuilder().UseTransport(transport).UseAggregator(new FedAvg())
            .WithInitialParameters(initial).Configure(o =>
            {
                o.Rounds = 100;
                o.MaxConsecutiveFailedRounds = 3;
            }).Build().RunAsync());
        Assert.Multiple(() =>
        {
            Assert.That(ex!.Message, Does.Contain("3 rounds in a row"));
            Assert.That(ex.History.Rounds, Has.Count.EqualTo(3));
            Assert.That(ex.History.Rounds[2].FailureReason, Does.Contain("only 0 valid updates"));
        });
    }

    [Test]
    public async Task RunAsync_ProceedAfterResults_ClosesRoundWithoutWaitingForTheSlowClient()
    {
        await using var transport = new InMemoryTransport();
        var hanging = new HangingClient();
        transport.AddClient("a", new ShiftClient(1, 10));
        transport.AddClient("b", new ShiftClient(3, 10));
        transport.AddClient("c", new ShiftClient(5, 10));
        transport.AddClient("d-slow", hanging);
        using ModelParameters initial = TestModels.Filled(TestModels.SmallLayout, 0);

        using FederationResult result = await new FederatedServerBuilder().UseTransport(transport).UseAggregator(new FedAvg()).WithInitialParameters(initial)
            .Configure(o =>
            {
                o.ProceedAfterFraction = 0.75;
                o.FractionEvaluate = 0;
                o.DeterministicAggregationOrder = false;
            }).Build().RunAsync().WithTimeout();

        ClientFailure skipped = result.History.Rounds[0].Failures.Single();
        Assert.Multiple(() =>
        {
            Assert.That(result.History.Rounds[0].AggregatedUpdates, Is.EqualTo(3));
            Assert.That(result.Parameters.Values.ToArray(), Is.All.EqualTo(3f).Within(1e-6));
            Assert.That((skipped.ClientId, skipped.Kind), Is.EqualTo(("d-slow", ClientFailureKind.NotNeeded)));
        });
    }

    private sealed class Inline<T>(Action<T> report) : IProgress<T>
    {
        public void Report(T value) => report(value);
    }
}

internal static class BuilderTestExtensions
{
    public static FederatedServerBuilder UseCheckpointStoreIf(this FederatedServerBuilder builder, bool condition, ICheckpointStore store) =>
        condition ? builder.UseCheckpointStore(store) : builder;
}

public class FederatedServerBufferedAsyncTests
{
    [Test]
    public async Task RunAsync_FedBuff_AppliesStalenessWeightedBufferedUpdates()
    {
        await using var transport = new InMemoryTransport();
        for (int i = 0; i < 4; i++)
        {
            transport.AddClient($"c{i}", new ShiftClient(1, 10));
        }

        transport.AddClient("crashy", new ThrowingClient());
        using ModelParameters initial = TestModels.Filled(TestModels.SmallLayout, 0);
        var reports = new List<RoundReport>();

        using FederationResult result = await new FederatedServerBuilder().UseTransport(transport).UseAggregator(new FedAvg()).WithInitialParameters(initial)
            .Configure(o => o.Rounds = 6)
            .UseBufferedAsynchronousAggregation(f =>
            {
                f.BufferSize = 2;
                f.Concurrency = 3;
            })
            .Build().RunAsync(new InlineProgress(reports.Add)).WithTimeout();

        // Every client moves its start model by +1; an update t server-updates stale counts 1/sqrt(1+t), so each
        // server step adds between 1/sqrt(1+t_max) and 1. With 3 tasks in flight and 2 per step, the second step
        // holds at least one update started from the initial model (1 stale, weight 1/sqrt(2)): without staleness
        // weighting w would be exactly 6, with it at most 5 + (1 + 1/sqrt(2)) / 2.
        float w = result.Parameters.Values[0];
        Assert.Multiple(() =>
        {
            Assert.That(result.History.Rounds, Has.Count.EqualTo(6));
            Assert.That(result.History.Rounds.Select(r => r.AggregatedUpdates), Is.All.EqualTo(2));
            Assert.That(w, Is.InRange(6 / MathF.Sqrt(4), 5 + ((1 + (1 / MathF.Sqrt(2))) / 2) + 1e-5f));
            Assert.That(result.Parameters.Values.ToArray(), Is.All.EqualTo(w));
            Assert.That(reports.Select(r => r.Round), Is.EqualTo(new[] { 1, 2, 3, 4, 5, 6 }));
            Assert.That(result.History.Rounds.SelectMany(r => r.Failures).Select(f => f.ClientId), Is.All.EqualTo("crashy"));
        });
    }

    [Test]
    public void StalenessWeight_Values_FollowTheFedBuffRule()
    {
        Assert.That(new[] { 0, 3, 8 }.Select(BufferedAsyncOptions.StalenessWeight), Is.EqualTo(new[] { 1.0, 0.5, 1 / 3.0 }).Within(1e-12));
    }

    private sealed class InlineProgress(Action<RoundReport> report) : IProgress<RoundReport>
    {
        public void Report(RoundReport value) => report(value);
    }
}

public class FederatedServerFailurePolicyTests
{
    private static FederatedServerBuilder Builder(InMemoryTransport transport, ModelParameters initial, Action<FederatedServerOptions> configure) =>
        new FederatedServerBuilder().UseTransport(transport).UseAggregator(new FedAvg()).WithInitialParameters(initial)
            .Configure(o => { o.Rounds = 5; o.MinFitClients = 2; configure(o); });

    [Test]
    public async Task RunAsync_FourOfFiveRoundsFail_ThrowsWithTheHistory()
    {
        await using var transport = new InMemoryTransport();
        transport.AddClient("good", new ShiftClient(1, 10));
        transport.AddClient("flaky", new FailAfterClient(1));
        using ModelParameters initial = TestModels.Filled(TestModels.SmallLayout, 0);

        var ex = await Assert.ThrowsAsync<FederationFailedException>(async () => await Builder(transport, initial, _ => { }).Build().RunAsync().WithTimeout());

        Assert.Multiple(() =>
        {
            Assert.That(ex!.Message, Does.Contain("4 of 5 rounds produced no model").And.Contain("MaxFailedRoundFraction"));
            Assert.That(ex.History.Rounds.Select(r => r.Succeeded), Is.EqualTo(new[] { true, false, false, false, false }));
        });
    }

    [Test]
    public async Task RunAsync_FractionOne_ReturnsTheModelAndReportsFailedRounds()
    {
        await using var transport = new InMemoryTransport();
        transport.AddClient("good", new ShiftClient(1, 10));
        transport.AddClient("flaky", new FailAfterClient(1));
        using ModelParameters initial = TestModels.Filled(TestModels.SmallLayout, 0);

        using FederationResult result = await Builder(transport, initial, o => o.MaxFailedRoundFraction = 1).Build().RunAsync().WithTimeout();

        Assert.Multiple(() =>
        {
            Assert.That(result.FailedRounds, Is.EqualTo(new[] { 2, 3, 4, 5 }));
            Assert.That(result.History.FailedRounds, Is.EqualTo(4));
        });
    }

    [Test]
    public async Task RunAsync_ClientRetries_TransientFailureRetriedWithinTheRound()
    {
        await using var transport = new InMemoryTransport();
        transport.AddClient("good", new ShiftClient(1, 10));
        var flaky = new FailOnceClient();
        transport.AddClient("flaky", flaky);
        using ModelParameters initial = TestModels.Filled(TestModels.SmallLayout, 0);

        using FederationResult result = await Builder(transport, initial, o => { o.Rounds = 1; o.ClientRetries = 1; }).Build().RunAsync().WithTimeout();

        Assert.Multiple(() =>
        {
            Assert.That(result.History.Rounds[0].AggregatedUpdates, Is.EqualTo(2));
            Assert.That(result.History.Rounds[0].Failures.Where(f => f.Phase == RoundPhase.Fit), Is.Empty);
            Assert.That(flaky.Calls, Is.EqualTo(2));
        });
    }

    private sealed class FailAfterClient(int goodFits) : IClient
    {
        private int _fits;

        public Task<ConfigRecord> GetPropertiesAsync(CancellationToken cancellationToken = default) => Task.FromResult(ConfigRecord.Empty);

        public Task<FitResult> FitAsync(FitInstructions instructions, CancellationToken cancellationToken = default) =>
            ++_fits > goodFits ? throw new IOException("disk full") : new ShiftClient(1, 10).FitAsync(instructions, cancellationToken);

        public Task<EvaluateResult> EvaluateAsync(EvaluateInstructions instructions, CancellationToken cancellationToken = default) =>
            Task.FromResult(new EvaluateResult(1, 1));
    }

    private sealed class FailOnceClient : IClient
    {
        public int Calls { get; private set; }

        public Task<ConfigRecord> GetPropertiesAsync(CancellationToken cancellationToken = default) => Task.FromResult(ConfigRecord.Empty);

        public Task<FitResult> FitAsync(FitInstructions instructions, CancellationToken cancellationToken = default) =>
            ++Calls == 1 ? throw new IOException("connection reset") : new ShiftClient(1, 10).FitAsync(instructions, cancellationToken);

        public Task<EvaluateResult> EvaluateAsync(EvaluateInstructions instructions, CancellationToken cancellationToken = default) =>
            Task.FromResult(new EvaluateResult(1, 1));
    }
}
