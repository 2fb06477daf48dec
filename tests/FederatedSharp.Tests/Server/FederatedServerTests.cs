using FederatedSharp.Aggregation;
using FederatedSharp.Clients;
using FederatedSharp.Parameters;
using FederatedSharp.Server;
using FederatedSharp.Tests.TestUtilities;
using FederatedSharp.Transport;
using FederatedSharp.Transport.InMemory;
using Microsoft.Extensions.Time.Testing;

namespace FederatedSharp.Tests.Server;

public class FederatedServerTests
{
    private static FederatedServerBuilder Builder(FederatedSharp.Transport.ITransport transport, ModelParameters initial, Action<FederatedServerOptions>? configure = null) =>
        new FederatedServerBuilder()
            .UseTransport(transport)
            .UseAggregator(new FedAvg())
            .WithInitialParameters(initial)
            .Configure(o =>
            {
                o.Rounds = 1;
                o.MinAvailableClients = 2;
                o.MinFitClients = 2;
                configure?.Invoke(o);
            });

    [Test]
    public async Task RunAsync_ThreeClients_NewModelIsExampleWeightedAverage()
    {
        await using var transport = new InMemoryTransport();
        transport.AddClient("a", new ShiftClient(1, 10));
        transport.AddClient("b", new ShiftClient(2, 30));
        transport.AddClient("c", new ShiftClient(4, 60));
        using ModelParameters initial = TestModels.Filled(TestModels.SmallLayout, 0);

        using FederationResult result = await Builder(transport, initial).Build().RunAsync().WithTimeout();

        // (10*1 + 30*2 + 60*4) / 100 = 3.1
        Assert.Multiple(() =>
        {
            Assert.That(result.Parameters.Values.ToArray(), Is.All.EqualTo(3.1f).Within(1e-5));
            Assert.That(result.History.Rounds, Has.Count.EqualTo(1));
            Assert.That(result.History.Rounds[0].Succeeded, Is.True);
            Assert.That(result.History.Rounds[0].AggregatedUpdates, Is.EqualTo(3));
            Assert.That(result.History.Rounds[0].FitMetrics.GetDouble("train_loss", 0), Is.EqualTo(3.1).Within(1e-9));
        });
    }

    [Test]
    public async Task RunAsync_SeveralRounds_EachRoundStartsFromThePreviousModel()
    {
        await using var transport = new InMemoryTransport();
        transport.AddClient("a", new ShiftClient(1, 10));
        transport.AddClient("b", new ShiftClient(1, 10));
        using ModelParameters initial = TestModels.Filled(TestModels.SmallLayout, 0);
        var reports = new List<RoundReport>();

        using FederationResult result = await Builder(transport, initial, o => o.Rounds = 4).Build()
            .RunAsync(new InlineProgress<RoundReport>(reports.Add)).WithTimeout();

        Assert.Multiple(() =>
        {
            Assert.That(result.Parameters.Values.ToArray(), Is.All.EqualTo(4f).Within(1e-6));
            Assert.That(reports.Select(r => r.Round), Is.EqualTo(new[] { 1, 2, 3, 4 }));
            Assert.That(reports.All(r => r.TotalRounds == 4), Is.True);
            Assert.That(initial.Values.ToArray(), Is.All.EqualTo(0f), "the caller's initial parameters are not modified");
        });
    }

    [Test]
    public async Task RunAsync_ClientThrows_RecordedAndRoundSucceedsWithOthers()
    {
        await using var transport = new InMemoryTransport();
        transport.AddClient("a", new ShiftClient(1, 10));
        transport.AddClient("b", new ShiftClient(3, 10));
        transport.AddClient("crashy", new ThrowingClient());
        using ModelParameters initial = TestModels.Filled(TestModels.SmallLayout, 0);

        using FederationResult result = await Builder(transport, initial).Build().RunAsync().WithTimeout();

        RoundRecord round = result.History.Rounds[0];
        Assert.Multiple(() =>
        {
            Assert.That(round.Succeeded, Is.True);
            Assert.That(result.Parameters.Values.ToArray(), Is.All.EqualTo(2f).Within(1e-6));
            Assert.That(round.Failures.Where(f => f.Phase == RoundPhase.Fit).Select(f => (f.ClientId, f.Kind)), Is.EqualTo(new[] { ("crashy", ClientFailureKind.Exception) }));
            Assert.That(round.Failures[0].Reason, Does.Contain("disk full"));
            Assert.That(round.Failures.Any(f => f.Phase == RoundPhase.Evaluate && f.ClientId == "crashy"), Is.True);
        });
    }

    [Test]
    public async Task RunAsync_NaNUpdate_RejectedNeverAggregated()
    {
        await using var transport = new InMemoryTransport();
        transport.AddClient("a", new ShiftClient(1, 10));
        transport.AddClient("b", new ShiftClient(3, 10));
        transport.AddClient("poison", new FixedResultClient(global =>
        {
            ModelParameters p = global.Clone();
            p.Values[3] = float.NaN;
            return p;
        }, examples: 1000));
        using ModelParameters initial = TestModels.Filled(TestModels.SmallLayout, 0);

        using FederationResult result = await Builder(transport, initial).Build().RunAsync().WithTimeout();

        ClientFailure failure = result.History.Rounds[0].Failures.Single(f => f.Phase == RoundPhase.Fit);
        Assert.Multiple(() =>
        {
            Assert.That(result.Parameters.Values.ToArray(), Is.All.EqualTo(2f).Within(1e-6));
            Assert.That((failure.ClientId, failure.Kind), Is.EqualTo(("poison", ClientFailureKind.Rejected)));
            Assert.That(failure.Reason, Does.Contain("NaN"));
        });
    }

    [Test]
    public async Task RunAsync_WrongShapeUpdate_RejectedWithLayoutMessage()
    {
        await using var transport = new InMemoryTransport();
        transport.AddClient("a", new ShiftClient(1, 10));
        transport.AddClient("b", new ShiftClient(1, 10));
        transport.AddClient("wrong", new FixedResultClient(_ => ModelParameters.Create(TensorLayout.Create(new TensorSpec("fc.weight", 3, 2), new TensorSpec("fc.bias", 2)))));
        using ModelParameters initial = TestModels.Filled(TestModels.SmallLayout, 0);

        using FederationResult result = await Builder(transport, initial).Build().RunAsync().WithTimeout();

        ClientFailure failure = result.History.Rounds[0].Failures.Single(f => f.Phase == RoundPhase.Fit);
        Assert.That(failure.Reason, Does.Contain("fc.weight").And.Contain("[3, 2]"));
    }

    [Test]
    public async Task RunAsync_TooFewValidUpdates_RoundFailsAndPreviousModelStands()
    {
        await using var transport = new InMemoryTransport();
        transport.AddClient("a", new ShiftClient(5, 10));
        transport.AddClient("b", new ThrowingClient());
        transport.AddClient("c", new ThrowingClient());
        using ModelParameters initial = TestModels.Filled(TestModels.SmallLayout, 0.5f);

        using FederationResult result = await Builder(transport, initial, o => { o.Rounds = 2; o.MaxFailedRoundFraction = 1; }).Build().RunAsync().WithTimeout();

        Assert.Multiple(() =>
        {
            Assert.That(result.History.Rounds.Select(r => r.Succeeded), Is.EqualTo(new[] { false, false }));
            Assert.That(result.History.FailedRounds, Is.EqualTo(2));
            Assert.That(result.Parameters.Values.ToArray(), Is.All.EqualTo(0.5f));
            Assert.That(result.History.Rounds[0].AggregatedUpdates, Is.EqualTo(0));
        });
    }

    [Test]
    public async Task RunAsync_ClientMissesDeadline_TimedOutAndRoundCompletes()
    {
        var time = new FakeTimeProvider();
        await using var transport = new InMemoryTransport();
        var hanging = new HangingClient(ignoreCancellation: true);
        transport.AddClient("a", new ShiftClient(1, 10));
        transport.AddClient("b", new ShiftClient(3, 10));
        transport.AddClient("slow", hanging);
        using ModelParameters initial = TestModels.Filled(TestModels.SmallLayout, 0);
        FederatedServer server = Builder(transport, initial, o =>
        {
            o.FitTimeout = TimeSpan.FromSeconds(30);
            o.FractionEvaluate = 0;
        }).UseTimeProvider(time).Build();

        Task<FederationResult> run = server.RunAsync();
        await hanging.Started.WithTimeout();
        Assert.That(run.IsCompleted, Is.False, "the server waits for the slow client until the deadline");
        time.Advance(TimeSpan.FromSeconds(31));
        using FederationResult result = await run.WithTimeout();

        ClientFailure failure = result.History.Rounds[0].Failures.Single();
        Assert.Multiple(() =>
        {
            Assert.That((failure.ClientId, failure.Kind), Is.EqualTo(("slow", ClientFailureKind.Timeout)));
            Assert.That(result.Parameters.Values.ToArray(), Is.All.EqualTo(2f).Within(1e-6));
        });
    }

    [Test]
    public async Task RunAsync_FewerClientsThanMinimum_WaitsUntilEnoughConnect()
    {
        await using var transport = new InMemoryTransport();
        var a = new ShiftClient(1, 10);
        transport.AddClient("a", a);
        var observed = new WaitObservingTransport(transport);
        using ModelParameters initial = TestModels.Filled(TestModels.SmallLayout, 0);

        Task<FederationResult> run = Builder(observed, initial).Build().RunAsync();
        int minimum = await observed.Waiting.WithTimeout();
        Assert.Multiple(() =>
        {
            Assert.That(minimum, Is.EqualTo(2), "the server waits for MinAvailableClients");
            Assert.That(a.FitCalls, Is.Zero, "and asks nobody to train before they are there");
            Assert.That(run.IsCompleted, Is.False);
        });
        transport.AddClient("b", new ShiftClient(3, 10));
        using FederationResult result = await run.WithTimeout();

        Assert.That(result.Parameters.Values.ToArray(), Is.All.EqualTo(2f).Within(1e-6));
    }

    [Test]
    public async Task RunAsync_CancelledBeforeStart_Throws()
    {
        await using var transport = new InMemoryTransport();
        transport.AddClient("a", new ShiftClient(1, 10));
        transport.AddClient("b", new ShiftClient(1, 10));
        using ModelParameters initial = TestModels.Filled(TestModels.SmallLayout, 0);
        using var cts = new CancellationTokenSource();
        await cts.CancelAsync();

        Assert.That(async () => await Builder(transport, initial).Build().RunAsync(cancellationToken: cts.Token), Throws.InstanceOf<OperationCanceledException>());
    }

    [Test]
    public async Task RunAsync_CancelledMidFlight_ThrowsPromptly()
    {
        await using var transport = new InMemoryTransport();
        var hanging = new HangingClient();
        transport.AddClient("a", new ShiftClient(1, 10));
        transport.AddClient("slow", hanging);
        using ModelParameters initial = TestModels.Filled(TestModels.SmallLayout, 0);
        using var cts = new CancellationTokenSource();

        Task<FederationResult> run = Builder(transport, initial).Build().RunAsync(cancellationToken: cts.Token);
        await hanging.Started.WithTimeout();
        await cts.CancelAsync();

        Assert.That(async () => await run.WithTimeout(), Throws.InstanceOf<OperationCanceledException>());
    }

    [Test]
    public async Task RunAsync_ConfigProviderAndFedProx_ConfigReachesClients()
    {
        await using var transport = new InMemoryTransport();
        var a = new ShiftClient(1, 10);
        var b = new ShiftClient(1, 10);
        transport.AddClient("a", a);
        transport.AddClient("b", b);
        using ModelParameters initial = TestModels.Filled(TestModels.SmallLayout, 0);

        using FederationResult result = await Builder(transport, initial, o => o.Rounds = 2)
            .UseAggregator(new FedProx(0.25))
            .WithFitConfig(round => new ConfigRecord { [ConfigKeys.LearningRate] = 0.1 * round, [ConfigKeys.LocalSteps] = 100 })
            .Build().RunAsync().WithTimeout();

        ConfigRecord seen = a.LastFitConfig!;
        Assert.Multiple(() =>
        {
            Assert.That(seen.GetDouble(ConfigKeys.ProximalMu, 0), Is.EqualTo(0.25));
            Assert.That(seen.GetDouble(ConfigKeys.LearningRate, 0), Is.EqualTo(0.2).Within(1e-12));
            Assert.That(seen.GetInt64(ConfigKeys.LocalSteps, 0), Is.EqualTo(100));
            Assert.That(seen.GetInt64(ConfigKeys.Round, 0), Is.EqualTo(2));
            Assert.That(seen.IsFrozen, Is.True);
        });
    }

    [Test]
    public async Task RunAsync_FederatedEvaluation_LossAndMetricsWeightedByExamples()
    {
        await using var transport = new InMemoryTransport();
        transport.AddClient("a", new ShiftClient(1, 10, evalLoss: 1.0, accuracy: 0.5));
        transport.AddClient("b", new ShiftClient(1, 30, evalLoss: 3.0, accuracy: 0.9));
        using ModelParameters initial = TestModels.Filled(TestModels.SmallLayout, 0);

        using FederationResult result = await Builder(transport, initial).Build().RunAsync().WithTimeout();

        RoundRecord round = result.History.Rounds[0];
        Assert.Multiple(() =>
        {
            Assert.That(round.DistributedLoss, Is.EqualTo(2.5).Within(1e-12));
            Assert.That(round.DistributedMetrics.GetDouble("accuracy", 0), Is.EqualTo(0.8).Within(1e-12));
            Assert.That(result.History.GetDistributedMetric("accuracy"), Is.EqualTo(new[] { (1, 0.8) }).Within(1e-12));
        });
    }

    [Test]
    public async Task RunAsync_CentralizedEvaluator_SeesEachNewModel()
    {
        await using var transport = new InMemoryTransport();
        transport.AddClient("a", new ShiftClient(1, 10));
        transport.AddClient("b", new ShiftClient(1, 10));
        using ModelParameters initial = TestModels.Filled(TestModels.SmallLayout, 0);
        var seen = new List<float>();

        using FederationResult result = await Builder(transport, initial, o => o.Rounds = 3)
            .WithCentralizedEvaluation((round, p, ct) =>
            {
                seen.Add(p.Values[0]);
                return Task.FromResult(new EvaluateResult(10 - round, 1, new ConfigRecord { ["mean"] = (double)p.Values[0] }));
            })
            .Build().RunAsync().WithTimeout();

        Assert.Multiple(() =>
        {
            Assert.That(seen, Is.EqualTo(new[] { 1f, 2f, 3f }).Within(1e-6));
            Assert.That(result.History.Rounds.Select(r => r.CentralizedLoss), Is.EqualTo(new double?[] { 9, 8, 7 }));
            Assert.That(result.History.GetCentralizedMetric("mean").Select(p => p.Value), Is.EqualTo(new[] { 1.0, 2.0, 3.0 }).Within(1e-6));
        });
    }

    [Test]
    public async Task RunAsync_CentralizedEvaluatorThrows_RoundStillSucceeds()
    {
        await using var transport = new InMemoryTransport();
        transport.AddClient("a", new ShiftClient(1, 10));
        transport.AddClient("b", new ShiftClient(1, 10));
        using ModelParameters initial = TestModels.Filled(TestModels.SmallLayout, 0);

        using FederationResult result = await Builder(transport, initial)
            .WithCentralizedEvaluation((_, _, _) => throw new IOException("test set missing"))
            .Build().RunAsync().WithTimeout();

        Assert.Multiple(() =>
        {
            Assert.That(result.History.Rounds[0].Succeeded, Is.True);
            Assert.That(result.History.Rounds[0].CentralizedEvaluationError, Does.Contain("test set missing"));
        });
    }

    [Test]
    public async Task RunAsync_FractionFit_SamplesSameClientsForSameSeed()
    {
        async Task<IReadOnlyList<string>[]> Run(ulong seed)
        {
            await using var transport = new InMemoryTransport();
            for (int i = 0; i < 10; i++)
            {
                transport.AddClient($"c{i}", new ShiftClient(1, 10));
            }

            using ModelParameters initial = TestModels.Filled(TestModels.SmallLayout, 0);
            using FederationResult result = await Builder(transport, initial, o =>
            {
                o.Rounds = 3;
                o.FractionFit = 0.3;
                o.Seed = seed;
            }).Build().RunAsync().WithTimeout();
            return result.History.Rounds.Select(r => r.FitClients).ToArray();
        }

        IReadOnlyList<string>[] first = await Run(7);
        IReadOnlyList<string>[] second = await Run(7);
        IReadOnlyList<string>[] other = await Run(8);
        Assert.Multiple(() =>
        {
            Assert.That(first.Select(r => r.Count), Is.All.EqualTo(3));
            Assert.That(second, Is.EqualTo(first));
            Assert.That(other, Is.Not.EqualTo(first));
        });
    }

    [Test]
    public async Task RunAsync_TransportReportsUnknownClient_RecordedAsUnknown()
    {
        var transport = new VanishingTransport(new[] { "a", "b", "ghost" }, new ShiftClient(1, 10));
        using ModelParameters initial = TestModels.Filled(TestModels.SmallLayout, 0);

        using FederationResult result = await new FederatedServerBuilder().UseTransport(transport).UseAggregator(new FedAvg())
            .WithInitialParameters(initial).Configure(o => o.FractionEvaluate = 0).Build().RunAsync().WithTimeout();

        ClientFailure failure = result.History.Rounds[0].Failures.Single();
        Assert.Multiple(() =>
        {
            Assert.That((failure.ClientId, failure.Kind), Is.EqualTo(("ghost", ClientFailureKind.UnknownClient)));
            Assert.That(failure.Reason, Does.Contain("Unknown client 'ghost'"));
        });
    }

    [Test]
    public async Task RunAsync_CalledTwiceConcurrently_SecondThrows()
    {
        await using var transport = new InMemoryTransport();
        var hanging = new HangingClient();
        transport.AddClient("a", hanging);
        transport.AddClient("b", new ShiftClient(1, 1));
        using ModelParameters initial = TestModels.Filled(TestModels.SmallLayout, 0);
        using var cts = new CancellationTokenSource();
        FederatedServer server = Builder(transport, initial).Build();

        Task<FederationResult> first = server.RunAsync(cancellationToken: cts.Token);
        await hanging.Started.WithTimeout();
        Assert.That(async () => await server.RunAsync(), Throws.InvalidOperationException);
        await cts.CancelAsync();
        Assert.That(async () => await first.WithTimeout(), Throws.InstanceOf<OperationCanceledException>());
    }

    [Test]
    public async Task RunAsync_CyclicStrategy_OneClientPerRoundVisitingAll()
    {
        await using var transport = new InMemoryTransport();
        var clients = Enumerable.Range(0, 3).Select(i => new ShiftClient(i + 1, 10)).ToArray();
        for (int i = 0; i < 3; i++)
        {
            transport.AddClient($"h{i}", clients[i]);
        }

        using ModelParameters initial = TestModels.Filled(TestModels.SmallLayout, 0);
        using FederationResult result = await Builder(transport, initial, o =>
        {
            o.Rounds = 6;
            o.MinFitClients = 1;
            o.FractionEvaluate = 0;
        }).UseAggregator(new Cyclic()).Build().RunAsync().WithTimeout();

        Assert.Multiple(() =>
        {
            Assert.That(result.History.Rounds.Select(r => r.FitClients.Count), Is.All.EqualTo(1));
            Assert.That(result.History.Rounds.Take(3).Select(r => r.FitClients[0]), Is.EquivalentTo(new[] { "h0", "h1", "h2" }));
            Assert.That(clients.Select(c => c.FitCalls), Is.All.EqualTo(2));
            Assert.That(result.Parameters.Values[0], Is.EqualTo(12f).Within(1e-5), "each round adds the chosen client's shift: 2 x (1 + 2 + 3)");
        });
    }

    [Test]
    public async Task RunAsync_KrumWithTooFewUpdates_RoundFailsWithReasonAndFederationGoesOn()
    {
        await using var transport = new InMemoryTransport();
        transport.AddClient("a", new ShiftClient(1, 10));
        transport.AddClient("b", new ShiftClient(2, 10));
        using ModelParameters initial = TestModels.Filled(TestModels.SmallLayout, 0);

        using FederationResult result = await Builder(transport, initial, o => { o.Rounds = 2; o.MaxFailedRoundFraction = 1; }).UseAggregator(new Krum(byzantineClients: 1)).Build().RunAsync().WithTimeout();

        Assert.Multiple(() =>
        {
            Assert.That(result.History.Rounds.Select(r => r.Succeeded), Is.EqualTo(new[] { false, false }));
            Assert.That(result.History.Rounds[0].FailureReason, Does.Contain("Krum").And.Contain("f + 2"));
            Assert.That(result.Parameters.Values.ToArray(), Is.All.EqualTo(0f));
        });
    }

    private sealed class InlineProgress<T>(Action<T> report) : IProgress<T>
    {
        public void Report(T value) => report(value);
    }

    /// <summary>A transport that lists a client it cannot reach (it left between listing and the call).</summary>
    private sealed class VanishingTransport(string[] listed, IClient client) : ITransport
    {
        public IReadOnlyList<string> GetAvailableClients() => listed;

        public Task WaitForClientsAsync(int minimum, CancellationToken cancellationToken = default) => Task.CompletedTask;

        public IClientConnection GetConnection(string clientId) =>
            clientId == "ghost" ? throw new UnknownClientException(clientId) : new Connection(clientId, client);

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;

        private sealed class Connection(string id, IClient client) : IClientConnection
        {
            public string ClientId => id;

            public Task<ConfigRecord> GetPropertiesAsync(CancellationToken cancellationToken = default) => client.GetPropertiesAsync(cancellationToken);

            public Task<FitResult> FitAsync(FitInstructions instructions, CancellationToken cancellationToken = default) => client.FitAsync(instructions, cancellationToken);

            public Task<EvaluateResult> EvaluateAsync(EvaluateInstructions instructions, CancellationToken cancellationToken = default) => client.EvaluateAsync(instructions, cancellationToken);
        }
    }
}
