using FederatedSharp.Aggregation;
using FederatedSharp.Clients;
using FederatedSharp.Parameters;
using FederatedSharp.Privacy.SecureAggregation;
using FederatedSharp.Server;
using FederatedSharp.Server.Checkpoints;
using FederatedSharp.TorchSharp.Tests.TestUtilities;
using FederatedSharp.TorchSharp.Training;
using FederatedSharp.Transport.InMemory;

namespace FederatedSharp.TorchSharp.Tests.Server;

/// <summary>The chaos plan of <see cref="FederatedServerChaosTests"/> against the other round drivers: FedBuff (with a server kill) and secure rounds.</summary>
public class FederatedServerChaosDriversTests
{
    private const int Clients = 20;
    private static readonly FaultInjectionOptions Plan = new()
    {
        Seed = 7, FailureProbability = 0.05, DropoutProbability = 0.02, CorruptionProbability = 0.06, MaxLatency = TimeSpan.FromMilliseconds(30),
    };

    private string _directory = null!;

    [SetUp]
    public void SetUp() => _directory = Path.Combine(Path.GetTempPath(), "fs-chaos-drivers-" + Guid.NewGuid().ToString("N"));

    [TearDown]
    public void TearDown()
    {
        if (Directory.Exists(_directory))
        {
            Directory.Delete(_directory, recursive: true);
        }
    }

    [Test]
    public async Task RunAsync_FedBuffUnderTheFaultPlanAndAServerKill_EveryVersionRecordedNoCorruptionAggregated()
    {
        double clean = await AccuracyAsync(null, fedBuff: true, secure: false, killAt: null);
        (double chaos, History history, List<InjectedFault> injected) = await RunAsync(Plan, fedBuff: true, secure: false, killAt: 12);

        Assert.Multiple(() =>
        {
            Assert.That(history.Rounds.Select(r => r.Round), Is.EqualTo(Enumerable.Range(1, 30)));
            Assert.That(history.Rounds.All(r => r.Succeeded && r.AggregatedUpdates == 5), Is.True);
            Assert.That(history.Rounds.All(r => r.FitResults.Count == 5), Is.True, "only accepted updates are in the buffer");
            Assert.That(history.Rounds.SelectMany(r => r.Failures).Where(f => f.Phase == RoundPhase.Fit).Select(f => f.Kind).Distinct(),
                Is.SubsetOf(new[] { ClientFailureKind.Exception, ClientFailureKind.Timeout, ClientFailureKind.Rejected }));
            AssertFaultsRecorded(history, injected, sameRound: false);
            Assert.That(chaos, Is.EqualTo(clean).Within(0.03), "within 3 accuracy points of the fault-free FedBuff run");
        });
    }

    [Test]
    public async Task RunAsync_SecureRoundsUnderTheFaultPlan_EveryRoundSucceedsWithTheSurvivors()
    {
        double clean = await AccuracyAsync(null, fedBuff: false, secure: true, killAt: null);
        (double chaos, History history, List<InjectedFault> injected) = await RunAsync(Plan, fedBuff: false, secure: true, killAt: null);

        Assert.Multiple(() =>
        {
            // A round with more than n - t = 3 of its 10 clients faulted fails cleanly (nothing revealed) and the next goes on.
            Assert.That(history.Rounds, Has.Count.EqualTo(30));
            Assert.That(history.Rounds.Count(r => r.Succeeded), Is.GreaterThanOrEqualTo(27));
            Assert.That(history.Rounds.Where(r => !r.Succeeded).Select(r => r.FailureReason), Has.All.Contains("Nothing was revealed"));
            AssertFaultsRecorded(history, injected, sameRound: true);
            Assert.That(history.Rounds.Where(r => r.Succeeded).All(r => r.AggregatedUpdates == r.FitClients.Count - r.Failures.Select(f => f.ClientId).Distinct().Count()), Is.True,
                "every faulted client dropped out of its secure round, no other did");
            Assert.That(chaos, Is.EqualTo(clean).Within(0.03));
        });
    }

    private static void AssertFaultsRecorded(History history, List<InjectedFault> injected, bool sameRound)
    {
        // Secure rounds send no plain update, so a NaN planted in one has nothing to corrupt. Under FedBuff the list holds only
        // the faults whose call ended two versions or more before its server life did (RunAsync): work still in flight
        // when the last version closes, or when the server is killed, is never consumed (and so not recorded).
        foreach (InjectedFault fault in injected.Where(f => f.Operation == "fit" && (!sameRound || f.Kind != InjectedFaultKind.CorruptedValues)).Distinct())
        {
            ClientFailureKind expected = fault.Kind switch
            {
                InjectedFaultKind.Dropout => ClientFailureKind.Timeout,
                InjectedFaultKind.CorruptedValues => ClientFailureKind.Rejected,
                _ => ClientFailureKind.Exception,
            };

            // FedBuff records a failure in the version that consumes it (the fault's round is the version it started from);
            // secure rounds turn every fault into a drop-out of that round (an exception, or a malformed reply).
            IEnumerable<RoundRecord> rounds = sameRound ? new[] { history.Rounds[fault.Round - 1] } : history.Rounds.Where(r => r.Round >= fault.Round);
            Assert.That(rounds.SelectMany(r => r.Failures).Any(f => f.ClientId == fault.ClientId && (sameRound || f.Kind == expected)), Is.True, $"{fault} is recorded");
        }
    }

    private async Task<double> AccuracyAsync(FaultInjectionOptions? faults, bool fedBuff, bool secure, int? killAt) =>
        (await RunAsync(faults, fedBuff, secure, killAt)).Accuracy;

    private async Task<(double Accuracy, History History, List<InjectedFault> Injected)> RunAsync(FaultInjectionOptions? faults, bool fedBuff, bool secure, int? killAt)
    {
        var injected = new List<InjectedFault>();
        string directory = Path.Combine(_directory, Guid.NewGuid().ToString("N"));
        var clients = Enumerable.Range(0, Clients).Select(i => SyntheticHeartData.Client(i)).ToList();
        (float[] testX, float[] testY) = SyntheticHeartData.Generate(1000, 999, shift: 0);
        using var test = TorchDataSet.FromArrays(testX, SyntheticHeartData.Features, testY);
        using ModelParameters initial = ModelParameters.Create(clients[0].Layout);
        try
        {
            for (int life = 0; ; life++)
            {
                using var kill = new CancellationTokenSource();
                await using var transport = new InMemoryTransport(new InMemoryTransportOptions { MaxConcurrency = 4, Faults = faults });
                for (int i = 0; i < Clients; i++)
                {
                    IClient client = clients[i];
                    transport.AddClient($"h{i:D2}", secure ? new SecureAggregationClient($"h{i:D2}", client) : client);
                }

                FederatedServerBuilder builder = new FederatedServerBuilder().UseAggregator(new FedAvg()).WithInitialParameters(initial)
                    .Configure(o =>
                    {
                        o.Rounds = 30;
                        o.FractionFit = 0.5;
                        o.MinAvailableClients = Clients;
                        o.FractionEvaluate = 0;
                        o.Seed = 3;
                        o.FitTimeout = TimeSpan.FromSeconds(1.5);
                        o.MaxConsecutiveFailedRounds = 0;
                    })
                    .UseCheckpointStore(new FileCheckpointStore(directory));
                DropoutDeadlineTransport? deadlines = null;
                int versionsClosed = 0;
                if (fedBuff)
                {
                    // FedBuff's fit deadline on a fake clock moved only past dropouts (see DropoutDeadlineTransport).
                    deadlines = new DropoutDeadlineTransport(transport, TimeSpan.FromMinutes(1)) { Stamp = () => Volatile.Read(ref versionsClosed) };
                    builder.UseTransport(deadlines).UseTimeProvider(deadlines.Clock).Configure(o => o.FitTimeout = TimeSpan.FromMinutes(1))
                        .UseBufferedAsynchronousAggregation(f => { f.BufferSize = 5; f.Concurrency = 8; });
                }
                else
                {
                    // Secure rounds keep the real clock: their phase deadlines also cover the masking phases' calls.
                    builder.UseTransport(transport);
                }

                if (secure)
                {
                    builder.UseSecureAggregation(new SecureAggregationOptions { ClipNorm = 1e3, MaxExampleCount = 1000, PhaseTimeout = TimeSpan.FromSeconds(1.5) });
                }

                var progress = new InlineProgress(r =>
                {
                    Volatile.Write(ref versionsClosed, r.Round);
                    if (r.Round == killAt && life == 0)
                    {
                        kill.Cancel();
                    }
                });
                try
                {
                    using FederationResult result = await builder.Build().RunAsync(progress, kill.Token).WaitAsync(TimeSpan.FromMinutes(5));
                    injected.AddRange(Consumed(transport, deadlines, versionsClosed));
                    return (clients[0].Evaluate(result.Parameters, test).Metrics.GetDouble("accuracy", 0), result.History, injected);
                }
                catch (OperationCanceledException) when (kill.IsCancellationRequested)
                {
                    injected.AddRange(Consumed(transport, deadlines, versionsClosed));
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

    /// <summary>The life's injected faults; under FedBuff only those whose call ended two versions or more before the life did.</summary>
    private static IEnumerable<InjectedFault> Consumed(InMemoryTransport transport, DropoutDeadlineTransport? deadlines, int lastVersion)
    {
        if (deadlines is null)
        {
            return transport.InjectedFaults;
        }

        IReadOnlyDictionary<(string ClientId, int Round), int> ended = deadlines.CompletionStamps;
        return transport.InjectedFaults.Where(f => f.Operation != "fit" || (ended.TryGetValue((f.ClientId, f.Round), out int stamp) && stamp <= lastVersion - 2));
    }

    private sealed class InlineProgress(Action<RoundReport> report) : IProgress<RoundReport>
    {
        public void Report(RoundReport value) => report(value);
    }
}
