using System.Diagnostics;
using FederatedSharp.Aggregation;
using FederatedSharp.Clients;
using FederatedSharp.Parameters;
using FederatedSharp.Server;
using FederatedSharp.Server.Checkpoints;
using FederatedSharp.Simulation;
using FederatedSharp.TorchSharp.Tests.TestUtilities;
using FederatedSharp.TorchSharp.Training;
using FederatedSharp.Transport.InMemory;
using TorchSharp;

namespace FederatedSharp.TorchSharp.Tests.Server;

/// <summary>
/// The server under a seeded fault plan: crashes, hangs past the deadline, slow clients, corrupted payloads and
/// values, and the server itself killed and resumed twice; plus memory over many rounds.
/// </summary>
public class FederatedServerChaosTests
{
    private const int Clients = 20;
    private const int Features = 13;
    private string _directory = null!;

    [SetUp]
    public void SetUp() => _directory = Path.Combine(Path.GetTempPath(), "fs-chaos-" + Guid.NewGuid().ToString("N"));

    [TearDown]
    public void TearDown()
    {
        if (Directory.Exists(_directory))
        {
            Directory.Delete(_directory, recursive: true);
        }
    }

    [Test]
    public async Task RunAsync_SeededFaultPlanAndTwoServerKills_CompletesEveryRoundNeverAggregatesCorruptionAndMatchesFaultFreeAccuracy()
    {
        (float[] testX, float[] testY) = Synthetic(1000, 999, shift: 0);
        (double clean, _, _) = await RunAsync(faults: null, killRounds: Array.Empty<int>(), testX, testY).WaitAsync(TimeSpan.FromMinutes(5));
        (double chaos, FederatedSharp.Server.History history, List<InjectedFault> injected) = await RunAsync(
            new FaultInjectionOptions { Seed = 7, FailureProbability = 0.05, DropoutProbability = 0.02, CorruptionProbability = 0.06, MaxLatency = TimeSpan.FromMilliseconds(30) },
            killRounds: new[] { 17, 35 }, testX, testY).WaitAsync(TimeSpan.FromMinutes(5));

        TestContext.Out.WriteLine($"accuracy fault-free {clean:F3}, chaos {chaos:F3}; faults injected: "
            + string.Join(", ", injected.GroupBy(f => f.Kind).Select(g => $"{g.Key} {g.Count()}")));
        var fitFaults = injected.Where(f => f.Operation == "fit").Distinct().ToList();
        Assert.Multiple(() =>
        {
            Assert.That(history.Rounds.Select(r => r.Round), Is.EqualTo(Enumerable.Range(1, 50)));
            Assert.That(history.Rounds.All(r => r.Succeeded), Is.True);
            Assert.That(fitFaults.Select(f => f.Kind).Distinct(), Is.EquivalentTo(Enum.GetValues<InjectedFaultKind>()), "the plan exercised every fault kind");
            foreach (InjectedFault fault in fitFaults)
            {
                ClientFailureKind expected = fault.Kind switch
                {
                    InjectedFaultKind.Dropout => ClientFailureKind.Timeout,
                    InjectedFaultKind.CorruptedValues => ClientFailureKind.Rejected,
                    _ => ClientFailureKind.Exception,
                };
                RoundRecord round = history.Rounds[fault.Round - 1];
                // The message says what the round did record for the client, so a rare mismatch can be diagnosed from the log.
                Assert.That(round.Failures.Any(f => f.ClientId == fault.ClientId && f.Kind == expected), Is.True,
                    $"{fault} is recorded in round {fault.Round} (sampled: {round.FitClients.Contains(fault.ClientId)}; recorded for {fault.ClientId}: "
                    + $"{string.Join("; ", round.Failures.Where(f => f.ClientId == fault.ClientId).Select(f => $"{f.Phase} {f.Kind} {f.Reason}").DefaultIfEmpty("nothing"))}; "
                    + $"faults injected for it in round {fault.Round}: {string.Join(", ", injected.Where(f => f.ClientId == fault.ClientId && f.Round == fault.Round).Select(f => $"{f.Operation} {f.Kind}"))})");
                Assert.That(round.AggregatedUpdates, Is.EqualTo(round.FitClients.Count - round.Failures.Count(f => f.Phase == RoundPhase.Fit)), "no failed or rejected update was aggregated");
            }

            Assert.That(chaos, Is.EqualTo(clean).Within(0.02), "within 2 accuracy points of the fault-free run");
        });
    }

    [Test]
    public async Task RunAsync_TwoHundredRounds_ManagedAndNativeMemoryStayFlat()
    {
        await using var transport = new InMemoryTransport(new InMemoryTransportOptions { MaxConcurrency = 4 });
        var clients = Enumerable.Range(0, 4).Select(CreateClient).ToList();
        for (int i = 0; i < clients.Count; i++)
        {
            transport.AddClient($"c{i}", clients[i]);
        }

        using ModelParameters initial = ModelParameters.Create(clients[0].Layout);
        long managedAt20 = 0, privateAt20 = 0, managedAt200 = 0, privateAt200 = 0;
        var progress = new Inline(r =>
        {
            if (r.Round is 20 or 200)
            {
                long managed = GC.GetTotalMemory(forceFullCollection: true);
                GC.WaitForPendingFinalizers();
                long native = Process.GetCurrentProcess().PrivateMemorySize64;
                (r.Round == 20 ? ref managedAt20 : ref managedAt200) = managed;
                (r.Round == 20 ? ref privateAt20 : ref privateAt200) = native;
            }
        });
        using FederationResult result = await new FederatedServerBuilder().UseTransport(transport).UseAggregator(new FedAvg()).WithInitialParameters(initial)
            .Configure(o =>
            {
                o.Rounds = 200;
                o.FractionEvaluate = 0.5;
            })
            .Build().RunAsync(progress).WaitAsync(TimeSpan.FromMinutes(5));
        foreach (TorchTrainerClient c in clients)
        {
            c.Dispose();
        }

        TestContext.Out.WriteLine($"managed {managedAt20 / 1024} -> {managedAt200 / 1024} KiB, process private {privateAt20 / 1048576} -> {privateAt200 / 1048576} MiB between rounds 20 and 200");
        Assert.Multiple(() =>
        {
            Assert.That(managedAt200 - managedAt20, Is.LessThan(8L << 20), "managed heap growth under 8 MiB over 180 rounds");
            Assert.That(privateAt200 - privateAt20, Is.LessThan(64L << 20), "process memory (native TorchSharp tensors included) growth under 64 MiB");
        });
    }

    private async Task<(double Accuracy, FederatedSharp.Server.History History, List<InjectedFault> Injected)> RunAsync(FaultInjectionOptions? faults, int[] killRounds, float[] testX, float[] testY)
    {
        var injected = new List<InjectedFault>();
        string directory = Path.Combine(_directory, faults is null ? "clean" : "chaos");
        var clients = Enumerable.Range(0, Clients).Select(CreateClient).ToList();
        using ModelParameters initial = ModelParameters.Create(clients[0].Layout);
        try
        {
            for (int life = 0; ; life++)
            {
                using var kill = new CancellationTokenSource();
                int killAt = life < killRounds.Length ? killRounds[life] : int.MaxValue;
                await using var transport = new InMemoryTransport(new InMemoryTransportOptions { MaxConcurrency = Clients, Faults = faults });
                for (int i = 0; i < Clients; i++)
                {
                    // The second kill happens mid-round: when round `killAt` starts training.
                    transport.AddClient($"h{i:D2}", new HookedClient(clients[i], round =>
                    {
                        if (round == killAt && life == 1)
                        {
                            kill.Cancel();
                        }
                    }));
                }

                // The fit deadline runs on a fake clock that jumps only when every call in flight is a dropout, so a
                // dropout times out and a slow healthy client on a loaded machine never does.
                var deadlines = new DropoutDeadlineTransport(transport, TimeSpan.FromMinutes(1));
                FederatedServer server = new FederatedServerBuilder().UseTransport(deadlines).UseTimeProvider(deadlines.Clock).UseAggregator(new FedAvg()).WithInitialParameters(initial)
                    .Configure(o =>
                    {
                        o.Rounds = 50;
                        o.FractionFit = 0.5;
                        o.MinAvailableClients = Clients;
                        o.FractionEvaluate = 0;
                        o.Seed = 3;
                        o.FitTimeout = TimeSpan.FromMinutes(1);
                        o.MaxConsecutiveFailedRounds = 0;
                    })
                    .UseCheckpointStore(new FileCheckpointStore(directory))
                    .Build();
                var progress = new Inline(r =>
                {
                    if (r.Round == killAt && life == 0)
                    {
                        kill.Cancel();
                    }
                });
                try
                {
                    using FederationResult result = await server.RunAsync(progress, kill.Token);
                    injected.AddRange(transport.InjectedFaults);
                    return (clients[0].Evaluate(result.Parameters, Test(testX, testY)).Metrics.GetDouble("accuracy", 0), result.History, injected);
                }
                catch (OperationCanceledException) when (kill.IsCancellationRequested)
                {
                    injected.AddRange(transport.InjectedFaults);
                }
            }
        }
        finally
        {
            foreach (TorchTrainerClient c in clients)
            {
                c.Dispose();
            }
        }
    }

    private static TorchDataSet? _test;

    private static TorchDataSet Test(float[] x, float[] y) => _test ??= TorchDataSet.FromArrays(x, Features, y);

    private static TorchTrainerClient CreateClient(int index) => SyntheticHeartData.Client(index);

    private static (float[] X, float[] Y) Synthetic(int n, ulong seed, double shift) => SyntheticHeartData.Generate(n, seed, shift);

    private sealed class HookedClient(IClient inner, Action<int> onFit) : IClient
    {
        public Task<ConfigRecord> GetPropertiesAsync(CancellationToken cancellationToken = default) => inner.GetPropertiesAsync(cancellationToken);

        public Task<FitResult> FitAsync(FitInstructions instructions, CancellationToken cancellationToken = default)
        {
            onFit(instructions.Round);
            return inner.FitAsync(instructions, cancellationToken);
        }

        public Task<EvaluateResult> EvaluateAsync(EvaluateInstructions instructions, CancellationToken cancellationToken = default) => inner.EvaluateAsync(instructions, cancellationToken);
    }

    private sealed class Inline(Action<RoundReport> report) : IProgress<RoundReport>
    {
        public void Report(RoundReport value) => report(value);
    }
}
