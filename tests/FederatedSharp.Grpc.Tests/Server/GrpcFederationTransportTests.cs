using Microsoft.Extensions.Time.Testing;
using FederatedSharp.Aggregation;
using FederatedSharp.Clients;
using FederatedSharp.Compression;
using FederatedSharp.Grpc.Client;
using FederatedSharp.Grpc.Hosting;
using FederatedSharp.Grpc.Tests.TestUtilities;
using FederatedSharp.Parameters;
using FederatedSharp.Serialization;
using FederatedSharp.Server;
using FederatedSharp.Transport;
using FederatedSharp.Transport.InMemory;
using Grpc.Core;

namespace FederatedSharp.Grpc.Tests.Server;

public class GrpcFederationTransportTests
{
    private static readonly (string Id, float Target, long Examples)[] Participants = [("hospital-a", 1f, 10), ("hospital-b", 2f, 30), ("hospital-c", -4f, 60)];

    private static FederatedServer BuildServer(ITransport transport, ModelParameters initial, int rounds = 5, Action<FederatedServerOptions>? configure = null) =>
        new FederatedServerBuilder()
            .UseTransport(transport)
            .UseAggregator(new FedAdam())
            .WithInitialParameters(initial)
            .WithFitConfig(round => new ConfigRecord { { "step", ConfigValue.FromDouble(0.25 + (0.1 * round)) } })
            .Configure(o =>
            {
                o.Rounds = rounds;
                o.MinAvailableClients = 3;
                o.MinFitClients = 2;
                o.MinEvaluateClients = 2;
                o.FractionFit = 1.0;
                o.Seed = 11;
                configure?.Invoke(o);
            })
            .Build();

    [Test]
    public async Task RunAsync_ThreeClientsOverMutualTls_SameParametersAndHistoryAsInMemory()
    {
        using ModelParameters initial = ModelParameters.Create(TestFederation.Layout);
        await using var memory = new InMemoryTransport();
        foreach ((string id, float target, long examples) in Participants)
        {
            memory.AddClient(id, new TargetClient(target, examples));
        }

        using FederationResult expected = await BuildServer(memory, initial).RunAsync().WithTimeout();

        GrpcFederationHost host = await TestFederation.StartMutualTlsAsync();
        using var stop = new CancellationTokenSource();
        Task[] clients = Participants
            .Select(p => TestFederation.Runner(TestFederation.MutualTlsClient(host, p.Id)).RunAsync(new TargetClient(p.Target, p.Examples), stop.Token))
            .ToArray();
        using FederationResult actual = await BuildServer(host.Transport, initial).RunAsync().WithTimeout();
        long sent = host.Transport.BytesSent;
        long received = host.Transport.BytesReceived;
        await host.DisposeAsync();
        await Task.WhenAll(clients).WithTimeout();

        Assert.Multiple(() =>
        {
            Assert.That(actual.Parameters.Values.ToArray(), Is.EqualTo(expected.Parameters.Values.ToArray()), "bit-identical parameters");
            Assert.That(actual.History.Rounds.Select(r => r.AggregatedUpdates), Is.EqualTo(expected.History.Rounds.Select(r => r.AggregatedUpdates)));
            Assert.That(actual.History.Rounds.Select(r => r.DistributedLoss), Is.EqualTo(expected.History.Rounds.Select(r => r.DistributedLoss)));
            Assert.That(actual.History.Rounds.Select(r => r.FitMetrics.GetDouble("train_loss", double.NaN)), Is.EqualTo(expected.History.Rounds.Select(r => r.FitMetrics.GetDouble("train_loss", double.NaN))));
            Assert.That(actual.History.Rounds.All(r => r.Succeeded && r.Failures.Count == 0), Is.True);
            // Every round each of the 3 clients downloads the model twice (fit, evaluate) and uploads one update, all
            // of the same serialized size: the counters count each of those bytes once.
            long model = Serialization.BinaryModelSerializer.GetSerializedLength(initial);
            Assert.That(sent, Is.EqualTo(5 * 6 * model), "bytes sent");
            Assert.That(received, Is.EqualTo(5 * 3 * model), "bytes received");
        });
    }

    [Test]
    public async Task RunAsync_DownlinkDeltasOverMutualTls_SameModelAsInMemoryInFewerBytes()
    {
        using ModelParameters initial = ModelParameters.Create(TensorLayout.Create(new TensorSpec("w", [2000])));
        initial.Values.Fill(0.5f);
        FederatedServer Build(ITransport transport, ModelParameters start) =>
            new FederatedServerBuilder().UseTransport(transport).UseAggregator(new FedAvg()).WithInitialParameters(start)
                .Configure(o => { o.Rounds = 4; o.MinAvailableClients = 3; o.FractionFit = 1.0; o.FractionEvaluate = 0; o.Seed = 11; })
                .UseDownlinkDeltas(0.05)
                .Build();
        await using var memory = new InMemoryTransport(new InMemoryTransportOptions { WireSerializer = new SparseModelSerializer(), UplinkSerializer = new BinaryModelSerializer() });
        foreach ((string id, float target, long examples) in Participants)
        {
            memory.AddClient(id, new DownlinkDeltaClient(new TargetClient(target, examples)));
        }

        using FederationResult expected = await Build(memory, initial).RunAsync().WithTimeout();

        GrpcFederationHost host = await TestFederation.StartMutualTlsAsync(o =>
        {
            o.Federation.Serializer = new SparseModelSerializer();
            o.Federation.UplinkSerializer = new BinaryModelSerializer();
        });
        using var stop = new CancellationTokenSource();
        Task[] clients = Participants.Select(p =>
        {
            GrpcClientOptions options = TestFederation.MutualTlsClient(host, p.Id);
            options.Serializer = new SparseModelSerializer();
            options.UplinkSerializer = new BinaryModelSerializer();
            return TestFederation.Runner(options).RunAsync(new DownlinkDeltaClient(new TargetClient(p.Target, p.Examples)), stop.Token);
        }).ToArray();
        using FederationResult actual = await Build(host.Transport, initial).RunAsync().WithTimeout();
        long sent = host.Transport.BytesSent;
        await host.DisposeAsync();
        await Task.WhenAll(clients).WithTimeout();

        var buffer = new System.Buffers.ArrayBufferWriter<byte>();
        new SparseModelSerializer().Serialize(initial, buffer);
        long model = buffer.WrittenCount;
        Assert.Multiple(() =>
        {
            Assert.That(actual.Parameters.Values.ToArray(), Is.EqualTo(expected.Parameters.Values.ToArray()), "bit-identical to the in-memory federation");
            Assert.That(actual.History.Rounds.All(r => r.Succeeded && r.Failures.Count == 0), Is.True);
            Assert.That(sent, Is.InRange(3 * model, 3 * model * 1.5), "whole models in round 1, then 5% of the values in rounds 2-4");
        });
    }

    [Test]
    public async Task RunAsync_ClientKilledMidRound_RoundCompletesWithOthersAndClientRejoinsNextRound()
    {
        await using GrpcFederationHost host = await TestFederation.StartMutualTlsAsync();
        using var stop = new CancellationTokenSource();
        var others = Participants.Take(2)
            .Select(p => TestFederation.Runner(TestFederation.MutualTlsClient(host, p.Id)).RunAsync(new TargetClient(p.Target, p.Examples), stop.Token))
            .ToList();

        var fitStarted = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var doomed = new TargetClient(-4f, 60)
        {
            BeforeFit = async (instructions, ct) =>
            {
                if (instructions.Round == 2)
                {
                    fitStarted.TrySetResult();
                    await Task.Delay(Timeout.Infinite, ct);
                }
            },
        };
        using var kill = new CancellationTokenSource();
        GrpcClientOptions doomedOptions = TestFederation.MutualTlsClient(host, "hospital-c");
        Task doomedRun = TestFederation.Runner(doomedOptions).RunAsync(doomed, kill.Token);
        var rejoined = new TargetClient(-4f, 60);
        Task? rejoinedRun = null;
        _ = fitStarted.Task.ContinueWith(
            _ =>
            {
                kill.Cancel();
                rejoinedRun = TestFederation.Runner(doomedOptions).RunAsync(rejoined, stop.Token);
            },
            TaskScheduler.Default);

        using ModelParameters initial = ModelParameters.Create(TestFederation.Layout);
        using FederationResult result = await BuildServer(host.Transport, initial, rounds: 4).RunAsync().WithTimeout();

        Assert.That(async () => await doomedRun, Throws.InstanceOf<OperationCanceledException>());
        RoundRecord round2 = result.History.Rounds[1];
        Assert.Multiple(() =>
        {
            Assert.That(result.History.Rounds.All(r => r.Succeeded), Is.True);
            Assert.That(round2.AggregatedUpdates, Is.EqualTo(2), "round 2 completes with the two others");
            Assert.That(round2.Failures.Select(f => f.ClientId), Does.Contain("hospital-c"));
            Assert.That(result.History.Rounds[2].AggregatedUpdates, Is.EqualTo(3), "the client is back for round 3");
            Assert.That(result.History.Rounds[3].AggregatedUpdates, Is.EqualTo(3));
            Assert.That(rejoined.Fits, Is.EqualTo(2), "rounds 3 and 4 ran on the reconnected client, once each");
            Assert.That(doomed.Fits, Is.EqualTo(1), "round 1 only");
        });
        await host.DisposeAsync();
        await Task.WhenAll(others.Append(rejoinedRun!)).WithTimeout();
    }

    [Test]
    public async Task FitAsync_ClientStopsHeartbeating_FailsAfterHeartbeatTimeoutNotTheRoundDeadline()
    {
        var clock = new FakeTimeProvider();
        await using GrpcFederationHost host = await TestFederation.StartMutualTlsAsync(o =>
        {
            o.TimeProvider = clock;
            o.Federation.HeartbeatInterval = TimeSpan.FromSeconds(10);
            o.Federation.HeartbeatTimeout = TimeSpan.FromSeconds(30);
        });
        await using RawClient raw = await RawClient.ConnectAsync(host, "silent");   // confirmed, so watched; never heartbeats
        using ModelParameters global = ModelParameters.Create(TestFederation.Layout);
        Task<FitResult> fit = host.Transport.GetConnection("silent").FitAsync(new FitInstructions(1, global, ConfigRecord.Empty));

        clock.Advance(TimeSpan.FromSeconds(29));
        Assert.Multiple(() =>
        {
            Assert.That(host.Transport.GetAvailableClients(), Is.EqualTo(new[] { "silent" }), "29 s of silence is within the timeout");
            Assert.That(fit.IsCompleted, Is.False);
        });
        clock.Advance(TimeSpan.FromSeconds(6));

        var ex = await Assert.ThrowsAsync<ClientFailedException>(async () => await fit.WithTimeout());
        Assert.Multiple(() =>
        {
            Assert.That(ex!.Message, Does.Contain("no heartbeat for 35.0 s"));
            Assert.That(host.Transport.GetAvailableClients(), Is.Empty);
        });
    }

    [Test]
    public async Task FitAsync_RoundDeadlineCancelsTask_ClientIsToldAndLateResultIsDiscarded()
    {
        await using GrpcFederationHost host = await TestFederation.StartMutualTlsAsync();
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var cancelledOnClient = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var client = new TargetClient(1, 1);
        using var stop = new CancellationTokenSource();
        Task run = TestFederation.Runner(TestFederation.MutualTlsClient(host, "slow")).RunAsync(client, stop.Token);
        await host.Transport.WaitForClientsAsync(1).WithTimeout();
        using ModelParameters global = ModelParameters.Create(TestFederation.Layout);
        var clock = new FakeTimeProvider();
        using var deadline = new CancellationTokenSource(TimeSpan.FromMinutes(5), clock);
        var training = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        client.BeforeFit = async (_, ct) =>
        {
            using CancellationTokenRegistration r = ct.Register(() => cancelledOnClient.TrySetResult());
            training.TrySetResult();
            await release.Task;
        };

        Task<FitResult> fit = host.Transport.GetConnection("slow").FitAsync(new FitInstructions(1, global, ConfigRecord.Empty), deadline.Token);
        await training.Task.WithTimeout();
        clock.Advance(TimeSpan.FromMinutes(5));   // the round's deadline passes while the client trains
        Assert.That(async () => await fit.WithTimeout(), Throws.InstanceOf<OperationCanceledException>());
        await cancelledOnClient.Task.WithTimeout();
        release.SetResult();

        await host.DisposeAsync();
        await run.WithTimeout();
        Assert.That(host.Transport.GetAvailableClients(), Is.Empty);
    }

    [Test]
    public async Task GetPropertiesAsync_ConnectedClient_ReturnsTheClientsProperties()
    {
        await using GrpcFederationHost host = await TestFederation.StartMutualTlsAsync();
        using var stop = new CancellationTokenSource();
        Task run = TestFederation.Runner(TestFederation.MutualTlsClient(host, "props")).RunAsync(new TargetClient(2.5f, 1), stop.Token);
        await host.Transport.WaitForClientsAsync(1).WithTimeout();

        ConfigRecord properties = await host.Transport.GetConnection("props").GetPropertiesAsync().WithTimeout();

        Assert.That(properties.GetDouble("target", 0), Is.EqualTo(2.5));
        await host.DisposeAsync();
        await run.WithTimeout();
    }

    [Test]
    public async Task GetConnection_UnknownClient_ThrowsUnknownClientException()
    {
        await using GrpcFederationHost host = await TestFederation.StartMutualTlsAsync();

        Assert.That(() => host.Transport.GetConnection("nobody"), Throws.InstanceOf<UnknownClientException>());
    }

    [Test]
    public async Task Session_SecondConnectionWithSameId_ReplacesTheFirstAndIsCountedOnce()
    {
        await using GrpcFederationHost host = await TestFederation.StartMutualTlsAsync();
        await using RawClient first = await RawClient.ConnectAsync(host, "twin");
        await using RawClient second = await RawClient.ConnectAsync(host, "twin");

        Assert.That(await first.WaitForEndAsync().WithTimeout(), Is.True, "the first session is closed");
        Assert.That(host.Transport.GetAvailableClients(), Is.EqualTo(new[] { "twin" }));
    }

    [Test]
    public async Task Session_MoreClientsThanMaxClients_RefusedWithResourceExhausted()
    {
        await using GrpcFederationHost host = await TestFederation.StartMutualTlsAsync(o => o.Federation.MaxClients = 1);
        await using RawClient first = await RawClient.ConnectAsync(host, "one");

        var ex = await Assert.ThrowsAsync<RpcException>(async () => await RawClient.ConnectAsync(host, "two"));

        Assert.That(ex!.StatusCode, Is.EqualTo(StatusCode.ResourceExhausted));
        Assert.That(ex.Status.Detail, Does.Contain("maximum of 1"));
    }
}
