using FederatedSharp.Clients;
using FederatedSharp.Grpc.Client;
using FederatedSharp.Grpc.Hosting;
using FederatedSharp.Grpc.Tests.TestUtilities;
using FederatedSharp.Parameters;
using FederatedSharp.Serialization;
using FederatedSharp.Transport;

namespace FederatedSharp.Grpc.Tests.DataChannel;

/// <summary>
/// Transfers over the data channel through a proxy that cuts the connection part-way: they resume from the last
/// acknowledged byte (at most one window sent again), the result is byte-identical, and a transfer that cannot resume
/// fails its task with the reason.
/// </summary>
public class DataChannelClientTests
{
    private const int Window = 256 * 1024;
    private static readonly TensorLayout Layout = TensorLayout.Create(new TensorSpec("w", [1_000_000]));

    private static ModelParameters CreateModel()
    {
        ModelParameters model = ModelParameters.CreateUninitialized(Layout);
        var random = new Random(7);
        Span<float> values = model.Values;
        for (int i = 0; i < values.Length; i++)
        {
            values[i] = (float)random.NextDouble();
        }

        return model;
    }

    private static async Task<(FitResult? Result, Exception? Error, long ServerSent)> RunThroughProxyAsync(
        FaultInjectingProxy proxy, ModelParameters global, int maxResumeAttempts = 5, IModelSerializer? serializer = null)
    {
        await using GrpcFederationHost host = await TestFederation.StartMutualTlsAsync(o =>
        {
            o.Federation.DataChannel.WindowBytes = Window;
            o.Federation.DataChannel.AdvertisedPort = proxy.Port;
            o.Federation.Serializer = serializer ?? o.Federation.Serializer;
        });
        proxy.TargetPort = host.Transport.DataPort!.Value;
        GrpcClientOptions options = TestFederation.MutualTlsClient(host, "site");
        options.Serializer = serializer ?? options.Serializer;
        options.MaxResumeAttempts = maxResumeAttempts;
        options.InitialReconnectDelay = TimeSpan.FromMilliseconds(20);
        using var stop = new CancellationTokenSource();
        Task run = TestFederation.Runner(options).RunAsync(new IncrementClient(), stop.Token);
        await host.Transport.WaitForClientsAsync(1).WithTimeout();
        try
        {
            FitResult result = await host.Transport.GetConnection("site").FitAsync(new FitInstructions(1, global, ConfigRecord.Empty)).WithTimeout();
            return (result, null, host.Transport.BytesSent);
        }
        catch (ClientFailedException ex)
        {
            return (null, ex, host.Transport.BytesSent);
        }
        finally
        {
            await stop.CancelAsync();
            await run.ContinueWith(_ => { }).WithTimeout();
        }
    }

    private static void AssertIncremented(ModelParameters global, FitResult result)
    {
        float[] expected = global.Values.ToArray();
        System.Numerics.Tensors.TensorPrimitives.Add(expected, 1f, expected);
        Assert.That(result.Parameters.Values.SequenceEqual(expected), Is.True, "the update is byte-identical to the model plus one");
    }

    [TestCase(0.3)]
    [TestCase(0.6)]
    [TestCase(0.9)]
    public async Task DownloadAsync_ConnectionCutPartWay_ResumesAndSendsAtMostOneWindowAgain(double fraction)
    {
        using ModelParameters global = CreateModel();
        long modelBytes = BinaryModelSerializer.GetSerializedLength(global);
        await using var proxy = new FaultInjectingProxy { CutConnection = 0, CutTowardsClient = true, CutAfterBytes = (long)(fraction * modelBytes) };

        (FitResult? result, Exception? error, long serverSent) = await RunThroughProxyAsync(proxy, global);

        Assert.That(error, Is.Null);
        using (result)
        {
            AssertIncremented(global, result!);
            Assert.Multiple(() =>
            {
                Assert.That(proxy.Cuts, Is.EqualTo(1));
                Assert.That(proxy.Connections, Is.EqualTo(3), "download, resumed download, upload");
                Assert.That(serverSent - modelBytes, Is.InRange(0, Window), "model bytes the server sent twice");
            });
        }
    }

    [TestCase(0.3)]
    [TestCase(0.6)]
    [TestCase(0.9)]
    public async Task UploadAsync_ConnectionCutPartWay_ResumesAndSendsAtMostOneWindowAgain(double fraction)
    {
        using ModelParameters global = CreateModel();
        long modelBytes = BinaryModelSerializer.GetSerializedLength(global);
        await using var proxy = new FaultInjectingProxy { CutConnection = 1, CutTowardsClient = false, CutAfterBytes = (long)(fraction * modelBytes) };

        (FitResult? result, Exception? error, _) = await RunThroughProxyAsync(proxy, global);

        Assert.That(error, Is.Null);
        using (result)
        {
            AssertIncremented(global, result!);
            Assert.That(result!.ExampleCount, Is.EqualTo(3));

            // Towards the server: the update once, at most a window again, and framing (requests, download acks, TLS).
            const int Framing = 32 * 1024;
            Assert.Multiple(() =>
            {
                Assert.That(proxy.Cuts, Is.EqualTo(1));
                Assert.That(proxy.Connections, Is.EqualTo(3), "download, upload, resumed upload");
                Assert.That(proxy.BytesToServer, Is.InRange(modelBytes, modelBytes + Window + Framing));
            });
        }
    }

    [TestCase(true)]
    [TestCase(false)]
    public async Task FitAsync_TransferCutAndServerUnreachable_FailsTheTaskWithTheReason(bool download)
    {
        using ModelParameters global = CreateModel();
        long modelBytes = BinaryModelSerializer.GetSerializedLength(global);
        await using var proxy = new FaultInjectingProxy
        {
            CutConnection = download ? 0 : 1,
            CutTowardsClient = download,
            CutAfterBytes = modelBytes / 2,
            RefuseAfterCut = true,
        };

        (FitResult? result, Exception? error, _) = await RunThroughProxyAsync(proxy, global, maxResumeAttempts: 2);

        result?.Dispose();
        Assert.That(error, Is.TypeOf<ClientFailedException>());
        Assert.That(error!.Message, Does.Contain($"The {(download ? "download" : "upload")} of task").And.Contain("could not resume after 2 attempts"));
    }

    [TestCase(true)]
    [TestCase(false)]
    public async Task FitAsync_FormatWithoutItsOwnChecksumCutHalfway_ResumesWithTheTransferChecksum(bool download)
    {
        // Safetensors has no checksum and no length up front: the data channel hashes the bytes itself and sends chunks.
        using ModelParameters global = CreateModel();
        await using var proxy = new FaultInjectingProxy { CutConnection = download ? 0 : 1, CutTowardsClient = download, CutAfterBytes = 2_000_000 };

        (FitResult? result, Exception? error, _) = await RunThroughProxyAsync(proxy, global, serializer: new SafetensorsSerializer());

        Assert.That(error, Is.Null);
        using (result)
        {
            AssertIncremented(global, result!);
            Assert.That(proxy.Cuts, Is.EqualTo(1));
        }
    }
}
