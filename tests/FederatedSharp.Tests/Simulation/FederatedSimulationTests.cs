using FederatedSharp.Aggregation;
using FederatedSharp.Clients;
using FederatedSharp.Parameters;
using FederatedSharp.Server;
using FederatedSharp.Simulation;
using FederatedSharp.Tests.TestUtilities;
using FederatedSharp.Transport.InMemory;

namespace FederatedSharp.Tests.Simulation;

public class FederatedSimulationTests
{
    private static readonly TensorLayout Linear = TensorLayout.Create(new TensorSpec("fc.weight", 10, 2500), new TensorSpec("fc.bias", 10));

    [Test]
    public async Task RunAsync_RandomArrivalDelays_BitIdenticalParametersFiveTimes()
    {
        byte[]? reference = null;
        for (int run = 0; run < 5; run++)
        {
            // Each run draws different latencies (fault seed), so clients answer in a different order.
            var faults = new FaultInjectionOptions { Seed = (ulong)run, MaxLatency = TimeSpan.FromMilliseconds(3) };
            using FederationResult result = await FederatedSimulation.RunAsync(
                12,
                index => new NoisyClient(index),
                server => server.UseAggregator(new FedAvg()).WithInitialParameters(ModelParameters.Create(TestModels.SmallLayout))
                    .Configure(o =>
                    {
                        o.Rounds = 3;
                        o.FractionFit = 0.5;
                        o.Seed = 11;
                        o.FractionEvaluate = 0;
                    }),
                new InMemoryTransportOptions { MaxConcurrency = 6, Faults = faults }).WithTimeout();
            byte[] bytes = System.Runtime.InteropServices.MemoryMarshal.AsBytes(result.Parameters.Values).ToArray();
            reference ??= bytes;
            Assert.That(bytes, Is.EqualTo(reference), $"run {run}");
        }
    }

    [Test]
    public async Task RunAsync_ThousandVirtualClients_PeakMemoryDoesNotGrowWithClientCount()
    {
        // One update is 25,010 floats (100 KB): keeping every update of a 1,000-client round would need 100 MB.
        long peak100 = await PeakLiveHeapGrowthAsync(100);
        long peak1000 = await PeakLiveHeapGrowthAsync(1000);
        TestContext.Out.WriteLine($"peak live-heap growth: 100 clients {peak100 / 1024} KiB, 1000 clients {peak1000 / 1024} KiB");
        Assert.Multiple(() =>
        {
            Assert.That(peak1000, Is.LessThan(peak100 + (8L << 20)), "1,000 clients need no more memory than 100 (8 MiB slack)");
            Assert.That(peak1000, Is.LessThan(24L << 20), "far below the 100 MB that holding every update would take");
        });
    }

    private static async Task<long> PeakLiveHeapGrowthAsync(int clients)
    {
        long baseline = GC.GetTotalMemory(forceFullCollection: true);
        long peak = 0;
        int calls = 0;
        using FederationResult result = await FederatedSimulation.RunAsync(
            clients,
            index => new MeasuringClient(index, () =>
            {
                if (Interlocked.Increment(ref calls) % 25 == 0)
                {
                    long live = GC.GetTotalMemory(forceFullCollection: true) - baseline;
                    InterlockedMax(ref peak, live);
                }
            }),
            server => server.UseAggregator(new FedAvg()).WithInitialParameters(ModelParameters.Create(Linear))
                .Configure(o =>
                {
                    o.Rounds = 2;
                    o.FractionEvaluate = 0;
                    o.MinAvailableClients = clients;
                }),
            new InMemoryTransportOptions { MaxConcurrency = 2 }).WithTimeout(TimeSpan.FromMinutes(2));
        Assert.That(result.History.Rounds.Select(r => r.AggregatedUpdates), Is.All.EqualTo(clients));
        return peak;
    }

    private static void InterlockedMax(ref long target, long value)
    {
        long current;
        while (value > (current = Volatile.Read(ref target)) && Interlocked.CompareExchange(ref target, value, current) != current)
        {
        }
    }

    private sealed class MeasuringClient(int index, Action onFit) : IClient
    {
        public Task<ConfigRecord> GetPropertiesAsync(CancellationToken cancellationToken = default) => Task.FromResult(ConfigRecord.Empty);

        public Task<FitResult> FitAsync(FitInstructions instructions, CancellationToken cancellationToken = default)
        {
            onFit();
            ModelParameters p = instructions.Parameters.Clone();
            p.Values[0] += index;
            return Task.FromResult(new FitResult(p, 10));
        }

        public Task<EvaluateResult> EvaluateAsync(EvaluateInstructions instructions, CancellationToken cancellationToken = default) =>
            Task.FromResult(new EvaluateResult(0, 1));
    }
}

public class FederatedSimulationClientStateTests
{
    private static void Configure(FederatedServerBuilder server, ModelParameters initial) => server
        .UseAggregator(new FedAvg())
        .WithInitialParameters(initial)
        .Configure(o => { o.Rounds = 5; o.MinAvailableClients = 3; o.MinFitClients = 3; o.Seed = 1; });

    [Test]
    public async Task RunAsync_PerCallFactoryAndLongLivedClients_BitIdenticalWithStatefulClients()
    {
        using ModelParameters initial = TestModels.Filled(TestModels.SmallLayout, 0);
        var created = new List<CountingStateClient>();
        using FederationResult perCall = await FederatedSimulation.RunAsync(3, i =>
        {
            var client = new CountingStateClient(i);
            created.Add(client);
            return client;
        }, s => Configure(s, initial)).WithTimeout();

        CountingStateClient[] longLived = Enumerable.Range(0, 3).Select(i => new CountingStateClient(i)).ToArray();
        using FederationResult kept = await FederatedSimulation.RunAsync(longLived, s => Configure(s, initial)).WithTimeout();

        Assert.Multiple(() =>
        {
            Assert.That(kept.Parameters.Values.ToArray(), Is.EqualTo(perCall.Parameters.Values.ToArray()));
            Assert.That(kept.History.Rounds.Select(r => r.FitMetrics.ToString()), Is.EqualTo(perCall.History.Rounds.Select(r => r.FitMetrics.ToString())));
            Assert.That(kept.History.FailedRounds, Is.Zero);
            Assert.That(longLived.Select(c => c.Disposals), Is.All.Zero, "the simulation never disposes clients it did not create");
            Assert.That(created.Select(c => c.Disposals), Is.All.EqualTo(1), "it disposes every client it created, once");

            // momentum after 5 rounds: m = 0.5 m + (i + 1) from 0, so it is not the first-round value (state was kept).
            Assert.That(perCall.History.Rounds[^1].FitResults.Single(r => r.ClientId == FederatedSimulation.ClientId(0)).Metrics["momentum"].AsDouble(),
                Is.EqualTo(1 + 0.5 + 0.25 + 0.125 + 0.0625));
        });
    }

    [Test]
    public async Task RunAsync_FactoryHandsOutTheSameObject_FailsClearlyInsteadOfTrainingWithoutState()
    {
        using ModelParameters initial = TestModels.Filled(TestModels.SmallLayout, 0);
        CountingStateClient[] clients = Enumerable.Range(0, 3).Select(i => new CountingStateClient(i)).ToArray();

        var ex = await Assert.ThrowsAsync<FederationFailedException>(async () =>
            await FederatedSimulation.RunAsync(3, i => clients[i], s => Configure(s, initial)).WithTimeout());

        Assert.Multiple(() =>
        {
            Assert.That(ex!.Message, Does.Contain("4 of 5 rounds produced no model"));
            Assert.That(ex.History.Rounds[1].Failures.Select(f => f.Reason), Has.All.Contains("already returned").And.All.Contains("AddClient"));
        });
    }
}

public class FederatedSimulationStateCheckpointTests
{
    [Test]
    public async Task RunAsync_KilledAndResumedWithPerCallClients_ClientStatesRestoredBitForBit()
    {
        using var temp = new TempDirectory("fs-state-");
        using ModelParameters initial = TestModels.Filled(TestModels.SmallLayout, 0);
        Task<FederationResult> Run(bool checkpoints, CancellationToken cancellationToken = default, IProgress<RoundReport>? progress = null) =>
            FederatedSimulation.RunAsync(3, i => new CountingStateClient(i), s =>
            {
                s.UseAggregator(new FedAvg()).WithInitialParameters(initial).Configure(o => { o.Rounds = 6; o.MinAvailableClients = 3; o.MinFitClients = 3; });
                if (checkpoints)
                {
                    s.UseCheckpointStore(new FederatedSharp.Server.Checkpoints.FileCheckpointStore(temp.Path));
                }
            }, progress: progress, cancellationToken: cancellationToken);

        using FederationResult reference = await Run(checkpoints: false).WithTimeout();
        using (var kill = new CancellationTokenSource())
        {
            var progress = new InlineProgress<RoundReport>(r =>
            {
                if (r.Round == 3)
                {
                    kill.Cancel();
                }
            });
            Assert.That(async () => await Run(checkpoints: true, kill.Token, progress).WithTimeout(), Throws.InstanceOf<OperationCanceledException>());
        }

        // A new process: new transport, new (empty) state store, refilled from the checkpoint.
        using FederationResult resumed = await Run(checkpoints: true).WithTimeout();
        Assert.Multiple(() =>
        {
            Assert.That(resumed.Parameters.Values.ToArray(), Is.EqualTo(reference.Parameters.Values.ToArray()));
            Assert.That(resumed.History.Rounds[^1].FitMetrics.ToString(), Is.EqualTo(reference.History.Rounds[^1].FitMetrics.ToString()));
        });
    }
}
