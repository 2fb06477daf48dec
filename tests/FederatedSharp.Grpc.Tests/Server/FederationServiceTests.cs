using FederatedSharp.Clients;
using FederatedSharp.Grpc.Hosting;
using FederatedSharp.Grpc.Protocol;
using FederatedSharp.Grpc.Tests.TestUtilities;
using FederatedSharp.Parameters;
using FederatedSharp.Serialization;
using FederatedSharp.Transport;
using Google.Protobuf;
using Grpc.Core;

namespace FederatedSharp.Grpc.Tests.Server;

/// <summary>Hostile and malformed protocol messages: each is refused with a clear status and the server keeps serving.</summary>
public class FederationServiceTests
{
    private static async Task<(RawClient Raw, Task<FitResult> Fit, TaskInstruction Task, ModelParameters Global)> StartFitAsync(GrpcFederationHost host, string clientId)
    {
        RawClient raw = await RawClient.ConnectAsync(host, clientId);
        await host.Transport.WaitForClientsAsync(1).WithTimeout();
        var global = ModelParameters.Create(TestFederation.Layout);
        Task<FitResult> fit = host.Transport.GetConnection(clientId).FitAsync(new FitInstructions(1, global, ConfigRecord.Empty));
        TaskInstruction task = await raw.NextTaskAsync().WithTimeout();
        return (raw, fit, task, global);
    }

    private static async Task<RpcException> UploadAsync(RawClient raw, params UploadMessage[] messages)
    {
        return (await Assert.ThrowsAsync<RpcException>(async () =>
        {
            using AsyncClientStreamingCall<UploadMessage, UploadAck> call = raw.Api.UploadResult();
            foreach (UploadMessage message in messages)
            {
                await call.RequestStream.WriteAsync(message);
            }

            await call.RequestStream.CompleteAsync();
            await call.ResponseAsync;
        }))!;
    }

    private static UploadMessage Header(TaskInstruction task, long modelBytes, long examples = 10) =>
        new() { Header = new ResultHeader { TaskId = task.TaskId, ExampleCount = examples, ModelBytes = modelBytes } };

    private static UploadMessage Chunk(byte[] bytes) => new() { Chunk = ByteString.CopyFrom(bytes) };

    private static async Task AssertStillServesAsync(GrpcFederationHost host)
    {
        using var stop = new CancellationTokenSource();
        Task run = TestFederation.Runner(TestFederation.MutualTlsClient(host, "after")).RunAsync(new TargetClient(3, 5), stop.Token);
        await TestFederation.EventuallyAsync(() => host.Transport.GetAvailableClients().Contains("after"));

        using ModelParameters global = ModelParameters.Create(TestFederation.Layout);
        using FitResult result = await host.Transport.GetConnection("after").FitAsync(new FitInstructions(1, global, ConfigRecord.Empty)).WithTimeout();
        Assert.That(result.ExampleCount, Is.EqualTo(5), "the server still runs fits after the bad input");
        await stop.CancelAsync();
        Assert.That(async () => await run, Throws.InstanceOf<OperationCanceledException>());
    }

    [Test]
    public async Task UploadResult_GarbageModelBytes_InvalidArgumentAndTaskFailsAndServerKeepsServing()
    {
        await using GrpcFederationHost host = await TestFederation.StartMutualTlsAsync();
        var (raw, fit, task, global) = await StartFitAsync(host, "liar");
        byte[] garbage = new byte[500];
        new Random(3).NextBytes(garbage);

        RpcException ex = await UploadAsync(raw, Header(task, garbage.Length), Chunk(garbage));

        Assert.That(ex.StatusCode, Is.EqualTo(StatusCode.InvalidArgument));
        Assert.That(ex.Status.Detail, Does.StartWith("malformed model"));
        var failure = await Assert.ThrowsAsync<ClientFailedException>(async () => await fit.WithTimeout());
        Assert.That(failure!.Message, Does.Contain("malformed model"));
        await raw.DisposeAsync();
        global.Dispose();
        await AssertStillServesAsync(host);
    }

    [Test]
    public async Task UploadResult_AnnouncedSizeAboveMaxModelBytes_RefusedBeforeReading()
    {
        await using GrpcFederationHost host = await TestFederation.StartMutualTlsAsync(o => o.Federation.MaxModelBytes = 1000);
        var (raw, fit, task, global) = await StartFitAsync(host, "huge");

        RpcException ex = await UploadAsync(raw, Header(task, 5_000_000_000));

        Assert.That(ex.StatusCode, Is.EqualTo(StatusCode.InvalidArgument));
        Assert.That(ex.Status.Detail, Does.Contain("MaxModelBytes"));
        Assert.That(async () => await fit.WithTimeout(), Throws.InstanceOf<ClientFailedException>());
        await raw.DisposeAsync();
        global.Dispose();
    }

    [Test]
    public async Task UploadResult_MoreBytesThanAnnounced_InvalidArgument()
    {
        await using GrpcFederationHost host = await TestFederation.StartMutualTlsAsync();
        var (raw, fit, task, global) = await StartFitAsync(host, "long");
        byte[] model = new BinaryModelSerializer().SerializeToArray(global);

        RpcException ex = await UploadAsync(raw, Header(task, model.Length), Chunk(model), Chunk([1, 2, 3]));

        Assert.That(ex.StatusCode, Is.EqualTo(StatusCode.InvalidArgument));
        Assert.That(ex.Status.Detail, Does.Contain("bytes after the end of the model").Or.Contain("longer than"));
        Assert.That(async () => await fit.WithTimeout(), Throws.InstanceOf<ClientFailedException>());
        await raw.DisposeAsync();
        global.Dispose();
    }

    [Test]
    public async Task UploadResult_TruncatedModel_InvalidArgument()
    {
        await using GrpcFederationHost host = await TestFederation.StartMutualTlsAsync();
        var (raw, fit, task, global) = await StartFitAsync(host, "short");
        byte[] model = new BinaryModelSerializer().SerializeToArray(global);

        RpcException ex = await UploadAsync(raw, Header(task, model.Length), Chunk(model[..(model.Length / 2)]));

        Assert.That(ex.StatusCode, Is.EqualTo(StatusCode.InvalidArgument));
        Assert.That(ex.Status.Detail, Does.Contain("truncated"));
        Assert.That(async () => await fit.WithTimeout(), Throws.InstanceOf<ClientFailedException>());
        await raw.DisposeAsync();
        global.Dispose();
    }

    [Test]
    public async Task UploadResult_NegativeExampleCount_InvalidArgument()
    {
        await using GrpcFederationHost host = await TestFederation.StartMutualTlsAsync();
        var (raw, fit, task, global) = await StartFitAsync(host, "negative");
        byte[] model = new BinaryModelSerializer().SerializeToArray(global);

        RpcException ex = await UploadAsync(raw, Header(task, model.Length, examples: -5), Chunk(model));

        Assert.That(ex.Status.Detail, Does.Contain("example count -5 is negative"));
        Assert.That(async () => await fit.WithTimeout(), Throws.InstanceOf<ClientFailedException>());
        await raw.DisposeAsync();
        global.Dispose();
    }

    [Test]
    public async Task UploadResult_UnknownTask_FailedPreconditionAsStaleResult()
    {
        await using GrpcFederationHost host = await TestFederation.StartMutualTlsAsync();
        await using RawClient raw = await RawClient.ConnectAsync(host, "late");

        RpcException ex = await UploadAsync(raw, new UploadMessage { Header = new ResultHeader { TaskId = "0123456789abcdef", ModelBytes = 10 } });

        Assert.That(ex.StatusCode, Is.EqualTo(StatusCode.FailedPrecondition));
        Assert.That(ex.Status.Detail, Does.Contain("not pending"));
    }

    [Test]
    public async Task UploadResult_StartsWithChunk_InvalidArgument()
    {
        await using GrpcFederationHost host = await TestFederation.StartMutualTlsAsync();
        await using RawClient raw = await RawClient.ConnectAsync(host, "headless");

        RpcException ex = await UploadAsync(raw, Chunk([1, 2, 3]));

        Assert.That(ex.StatusCode, Is.EqualTo(StatusCode.InvalidArgument));
        Assert.That(ex.Status.Detail, Does.Contain("must start with a result header"));
    }

    [Test]
    public async Task UploadResult_TaskOfAnotherClient_PermissionDenied()
    {
        await using GrpcFederationHost host = await TestFederation.StartMutualTlsAsync();
        var (raw, fit, task, global) = await StartFitAsync(host, "owner");
        await using RawClient thief = RawClient.Unregistered(host, "thief");

        RpcException ex = await UploadAsync(thief, Header(task, 100));
        var download = await Assert.ThrowsAsync<RpcException>(async () =>
        {
            using var call = thief.Api.DownloadModel(new DownloadRequest { TaskId = task.TaskId });
            await call.ResponseStream.MoveNext(CancellationToken.None);
        });

        Assert.That(ex.StatusCode, Is.EqualTo(StatusCode.PermissionDenied));
        Assert.That(download!.StatusCode, Is.EqualTo(StatusCode.PermissionDenied));
        Assert.That(fit.IsCompleted, Is.False, "the owner's task is untouched");
        await raw.DisposeAsync();
        global.Dispose();
    }

    [Test]
    public async Task UploadResult_MessageLargerThanLimit_RefusedByGrpc()
    {
        await using GrpcFederationHost host = await TestFederation.StartMutualTlsAsync(o => o.Federation.MaxMessageBytes = 2 * 1024 * 1024);
        var (raw, fit, task, global) = await StartFitAsync(host, "oversized");

        RpcException ex = await UploadAsync(raw, Header(task, 3_000_000), Chunk(new byte[3_000_000]));

        // gRPC refuses the message (RESOURCE_EXHAUSTED) and resets the stream; the client may see either.
        Assert.That(ex.StatusCode, Is.EqualTo(StatusCode.ResourceExhausted).Or.EqualTo(StatusCode.Cancelled));
        var failure = await Assert.ThrowsAsync<ClientFailedException>(async () => await fit.WithTimeout());
        Assert.That(failure!.Message, Does.Contain("the upload failed"));
        await raw.DisposeAsync();
        global.Dispose();
        await AssertStillServesAsync(host);
    }

    [Test]
    public async Task Session_WrongProtocolVersion_FailedPrecondition()
    {
        await using GrpcFederationHost host = await TestFederation.StartMutualTlsAsync();

        var ex = await Assert.ThrowsAsync<RpcException>(async () => await RawClient.ConnectAsync(host, "future", protocolVersion: 99));

        Assert.That(ex!.StatusCode, Is.EqualTo(StatusCode.FailedPrecondition));
        Assert.That(ex.Status.Detail, Does.Contain("Protocol version 99 is not supported"));
    }

    [Test]
    public async Task Session_FirstMessageNotRegistration_InvalidArgument()
    {
        await using GrpcFederationHost host = await TestFederation.StartMutualTlsAsync();
        await using RawClient raw = RawClient.Unregistered(host, "rude");

        var ex = await Assert.ThrowsAsync<RpcException>(async () =>
        {
            using var session = raw.Api.Session();
            await session.RequestStream.WriteAsync(new ClientMessage { Heartbeat = new Heartbeat { Sequence = 1 } });
            await session.ResponseStream.MoveNext(CancellationToken.None);
        });

        Assert.That(ex!.StatusCode, Is.EqualTo(StatusCode.InvalidArgument));
        Assert.That(ex.Status.Detail, Does.Contain("must be a registration"));
    }

    [Test]
    public async Task Session_NoRegistrationWithinMessageTimeout_DeadlineExceeded()
    {
        var clock = new TimerObservingClock();
        await using GrpcFederationHost host = await TestFederation.StartMutualTlsAsync(o =>
        {
            o.TimeProvider = clock;
            o.Federation.MessageTimeout = TimeSpan.FromSeconds(45);
        });
        await using RawClient raw = RawClient.Unregistered(host, "mute");
        using var session = raw.Api.Session();
        Task<bool> read = session.ResponseStream.MoveNext(CancellationToken.None);

        await clock.WaitForTimerAsync(TimeSpan.FromSeconds(45)).WithTimeout();   // the server waits for the registration
        clock.Advance(TimeSpan.FromSeconds(44));
        Assert.That(read.IsCompleted, Is.False, "still within the message timeout");
        clock.Advance(TimeSpan.FromSeconds(1));
        var ex = await Assert.ThrowsAsync<RpcException>(async () => await read.WithTimeout());

        Assert.That(ex!.StatusCode, Is.EqualTo(StatusCode.DeadlineExceeded));
        Assert.That(ex.Status.Detail, Does.Contain("No registration arrived"));
    }
}
