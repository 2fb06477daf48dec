using FederatedSharp.Clients;
using FederatedSharp.Grpc.Client;
using FederatedSharp.Grpc.Hosting;
using FederatedSharp.Grpc.Protocol;
using FederatedSharp.Grpc.Server;
using FederatedSharp.Grpc.Tests.TestUtilities;
using FederatedSharp.Parameters;
using FederatedSharp.Serialization;
using FederatedSharp.Transport;
using Grpc.Core;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace FederatedSharp.Grpc.Tests.Server;

/// <summary>
/// A lost connection with a resume grace: the client's pending tasks wait for it, move to its new session, and their
/// transfers resume on the data channel; a client that does not come back fails them when the grace runs out.
/// </summary>
public class SessionRegistryTests
{
    private static readonly TensorLayout Layout = TensorLayout.Create(new TensorSpec("w", [1_000_000]));

    private static GrpcClientOptions ThroughProxy(GrpcFederationHost host, FaultInjectingProxy control)
    {
        control.TargetPort = host.Address.Port;
        GrpcClientOptions options = TestFederation.MutualTlsClient(host, "site");
        options.ServerAddress = new Uri($"https://localhost:{control.Port}");
        options.InitialReconnectDelay = TimeSpan.FromMilliseconds(20);
        options.MaxReconnectDelay = TimeSpan.FromMilliseconds(100);
        return options;
    }

    [Test]
    public async Task FitAsync_SessionAndUploadCutTogether_ResumesOnTheNewSession()
    {
        using ModelParameters global = ModelParameters.Create(Layout);
        long modelBytes = BinaryModelSerializer.GetSerializedLength(global);
        await using var control = new FaultInjectingProxy();
        await using var data = new FaultInjectingProxy { CutConnection = 1, CutTowardsClient = false, CutAfterBytes = modelBytes / 2 };
        data.CutHappened += control.CutAll;
        await using GrpcFederationHost host = await TestFederation.StartMutualTlsAsync(o =>
        {
            o.Federation.ResumeGrace = TimeSpan.FromMinutes(1);
            o.Federation.DataChannel.AdvertisedPort = data.Port;
            o.Federation.DataChannel.WindowBytes = 256 * 1024;
        });
        data.TargetPort = host.Transport.DataPort!.Value;
        GrpcClientRunner runner = TestFederation.Runner(ThroughProxy(host, control));
        using var stop = new CancellationTokenSource();
        Task run = runner.RunAsync(new IncrementClient(), stop.Token);
        await host.Transport.WaitForClientsAsync(1).WithTimeout();

        // The session is cut in the middle of the upload: without the grace the task fails then ("its connection
        // ended"). With it the task waits; the upload resumes on a new data connection, before or after the client
        // has registered again.
        using FitResult result = await host.Transport.GetConnection("site").FitAsync(new FitInstructions(1, global, ConfigRecord.Empty)).WithTimeout();
        await stop.CancelAsync();
        await run.ContinueWith(_ => { }).WithTimeout();

        Assert.Multiple(() =>
        {
            Assert.That(result.Parameters.Values.ToArray(), Is.All.EqualTo(1f), "the update arrived whole");
            Assert.That(data.Cuts, Is.EqualTo(1));
            Assert.That(data.BytesToServer, Is.LessThan(modelBytes + (256 * 1024) + (32 * 1024)), "the upload resumed rather than starting over");
        });
    }

    [Test]
    public async Task FitAsync_ClientDoesNotComeBack_FailsWhenTheGraceRunsOut()
    {
        using ModelParameters global = ModelParameters.Create(Layout);
        long modelBytes = BinaryModelSerializer.GetSerializedLength(global);
        var clock = new TimerObservingClock();
        TimeSpan grace = TimeSpan.FromSeconds(45);
        await using var control = new FaultInjectingProxy { RefuseAfterCut = true };
        await using var data = new FaultInjectingProxy { CutConnection = 0, CutTowardsClient = true, CutAfterBytes = modelBytes / 2, RefuseAfterCut = true };
        data.CutHappened += control.CutAll;
        await using GrpcFederationHost host = await TestFederation.StartMutualTlsAsync(o =>
        {
            o.TimeProvider = clock;
            o.Federation.ResumeGrace = grace;
            o.Federation.DataChannel.AdvertisedPort = data.Port;
        });
        data.TargetPort = host.Transport.DataPort!.Value;
        GrpcClientOptions options = ThroughProxy(host, control);
        options.MaxResumeAttempts = 1;
        using var stop = new CancellationTokenSource();
        Task run = TestFederation.Runner(options).RunAsync(new IncrementClient(), stop.Token);
        await host.Transport.WaitForClientsAsync(1).WithTimeout();

        Task<FitResult> fit = host.Transport.GetConnection("site").FitAsync(new FitInstructions(1, global, ConfigRecord.Empty));
        await clock.WaitForTimerAsync(grace).WithTimeout();
        Assert.That(fit.IsCompleted, Is.False, "the task waits for its client");
        clock.Advance(grace + TimeSpan.FromSeconds(1));

        ClientFailedException? ex = await Assert.ThrowsAsync<ClientFailedException>(() => fit.WithTimeout());
        await stop.CancelAsync();
        await run.ContinueWith(_ => { }).WithTimeout();
        Assert.That(ex!.Message, Does.Contain("did not resume the task within 45 s"));
    }

    /// <summary>Trains until cancelled (a fit in progress when the connection goes).</summary>
    private sealed class StuckClient : IClient
    {
        public TaskCompletionSource Started { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Task<ConfigRecord> GetPropertiesAsync(CancellationToken cancellationToken = default) => Task.FromResult(ConfigRecord.Empty);

        public async Task<FitResult> FitAsync(FitInstructions instructions, CancellationToken cancellationToken = default)
        {
            Started.TrySetResult();
            await Task.Delay(Timeout.Infinite, cancellationToken);
            throw new InvalidOperationException("unreachable");
        }

        public Task<EvaluateResult> EvaluateAsync(EvaluateInstructions instructions, CancellationToken cancellationToken = default) => Task.FromResult(new EvaluateResult(0, 1));
    }

    [Test]
    public async Task FitAsync_ClientRestartsWithoutTheTask_FailsItWhenItRegisters()
    {
        await using var control = new FaultInjectingProxy { RefuseAfterCut = true };
        await using GrpcFederationHost host = await TestFederation.StartMutualTlsAsync(o => o.Federation.ResumeGrace = TimeSpan.FromMinutes(1));
        var stuck = new StuckClient();
        using var stopFirst = new CancellationTokenSource();
        Task first = TestFederation.Runner(ThroughProxy(host, control)).RunAsync(stuck, stopFirst.Token);
        await host.Transport.WaitForClientsAsync(1).WithTimeout();
        using ModelParameters global = ModelParameters.Create(TestFederation.Layout);
        Task<FitResult> fit = host.Transport.GetConnection("site").FitAsync(new FitInstructions(1, global, ConfigRecord.Empty));
        await stuck.Started.Task.WithTimeout();

        control.CutAll();                                   // the connection goes, and the first process with it
        await stopFirst.CancelAsync();
        await first.ContinueWith(_ => { }).WithTimeout();
        using var stopSecond = new CancellationTokenSource();
        Task second = TestFederation.Runner(TestFederation.MutualTlsClient(host, "site")).RunAsync(new IncrementClient(), stopSecond.Token);

        ClientFailedException? ex = await Assert.ThrowsAsync<ClientFailedException>(() => fit.WithTimeout());
        await stopSecond.CancelAsync();
        await second.ContinueWith(_ => { }).WithTimeout();
        Assert.That(ex!.Message, Does.Contain("registered again without the task"));
    }

    // The race a loaded CI met: the request stream fails, the session ends keeping its tasks for the grace, and the
    // outbound loop, woken by its queue's completion before the call's cancellation, ended the session again and failed
    // the kept tasks ("its connection ended: connection lost ..."). Here the loop runs after the end, deterministically.
    [Test]
    public async Task WriteOutboundAsync_SessionLostWithResumeGrace_LeavesItsTasksWaiting()
    {
        var options = new GrpcFederationOptions { ResumeGrace = TimeSpan.FromMinutes(1) };
        var time = new FakeTimeProvider();
        var registry = new SessionRegistry(options, NullLogger.Instance, time, guard: null!);
        var session = new ClientSession("site", ConfigRecord.Empty, time.GetTimestamp());
        var task = new PendingTask("task-1", session, TaskKind.Fit, 1, model: null, modelBytes: 0, serialize: null);
        registry.AddTask(task);

        registry.EndSession(session, "connection lost: the request stream was aborted", keepTasks: true);
        await registry.WriteOutboundAsync(session, new DiscardingWriter(), CancellationToken.None).WithTimeout();

        Assert.That(task.Completion.Task.IsCompleted, Is.False, "the task waits for its client to resume it");
        time.Advance(TimeSpan.FromMinutes(1));
        ClientFailedException? ex = await Assert.ThrowsAsync<ClientFailedException>(() => task.Completion.Task.WithTimeout());
        Assert.That(ex!.Message, Does.Contain("did not resume the task within 60 s"));
    }

    private sealed class DiscardingWriter : IServerStreamWriter<ServerMessage>
    {
        public WriteOptions? WriteOptions { get; set; }

        public Task WriteAsync(ServerMessage message) => Task.CompletedTask;
    }
}
