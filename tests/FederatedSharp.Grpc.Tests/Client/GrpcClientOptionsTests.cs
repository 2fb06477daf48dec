using FederatedSharp.Clients;
using FederatedSharp.Compression;
using FederatedSharp.Grpc.Client;
using FederatedSharp.Grpc.Hosting;
using FederatedSharp.Grpc.Tests.TestUtilities;
using FederatedSharp.Parameters;
using FederatedSharp.Serialization;

namespace FederatedSharp.Grpc.Tests.Client;

/// <summary>Formats per direction, negotiated at registration: int8 models down, sparse top-k deltas up.</summary>
public class GrpcClientOptionsTests
{
    private static readonly TensorLayout Layout = TensorLayout.Create(new TensorSpec("w", [50_000]));

    private static Task<GrpcFederationHost> StartAsync() => TestFederation.StartMutualTlsAsync(o =>
    {
        o.Federation.Serializer = new BinaryModelSerializer(new BinaryModelSerializerOptions { Encoding = ElementEncoding.Int8 });
        o.Federation.UplinkSerializer = new SparseModelSerializer();
    });

    [Test]
    public async Task UplinkSerializer_SparseDeltasUp_ArriveAsTheTopValuesInAFractionOfTheBytes()
    {
        await using GrpcFederationHost host = await StartAsync();
        GrpcClientOptions options = TestFederation.MutualTlsClient(host, "site");
        options.Serializer = new BinaryModelSerializer(new BinaryModelSerializerOptions { Encoding = ElementEncoding.Int8 });
        options.UplinkSerializer = new SparseModelSerializer();
        using var stop = new CancellationTokenSource();
        Task run = TestFederation.Runner(options).RunAsync(new TopKUpdateClient(new TargetClient(3, 7)), stop.Token);
        await host.Transport.WaitForClientsAsync(1).WithTimeout();
        using ModelParameters global = ModelParameters.Create(Layout);
        var config = new ConfigRecord { { ConfigKeys.TopKFraction, 0.01 } }.Freeze();

        using FitResult result = await host.Transport.GetConnection("site").FitAsync(new FitInstructions(1, global, config)).WithTimeout();
        await stop.CancelAsync();
        await run.ContinueWith(_ => { }).WithTimeout();

        // TargetClient moves each value halfway to 3 + 0.01 i: the largest deltas are the last 1% of the values.
        float[] values = result.Parameters.Values.ToArray();
        Assert.Multiple(() =>
        {
            Assert.That(result.Metrics[ConfigKeys.IsDelta].AsBoolean(), Is.True);
            Assert.That(values.Count(v => v != 0), Is.EqualTo(500));
            Assert.That(values[^500..].All(v => v > 0), Is.True, "the 500 largest deltas");
            Assert.That(host.Transport.BytesReceived, Is.LessThan(5_000), "500 indices and values, not 200 kB");
            Assert.That(host.Transport.BytesSent, Is.InRange(50_000, 51_000), "one byte a value down (int8)");
        });
    }

    [Test]
    public async Task UplinkSerializer_ClientSendsAnotherFormat_IsRefusedAtRegistrationWithBothNames()
    {
        await using GrpcFederationHost host = await StartAsync();
        GrpcClientOptions options = TestFederation.MutualTlsClient(host, "site");
        options.Serializer = new BinaryModelSerializer(new BinaryModelSerializerOptions { Encoding = ElementEncoding.Int8 });

        FederationAccessDeniedException? ex = await Assert.ThrowsAsync<FederationAccessDeniedException>(
            () => TestFederation.Runner(options).RunAsync(new TargetClient(3, 7)).WithTimeout());

        Assert.That(ex!.Message, Does.Contain("'fssp-v1'").And.Contain("'fsmp-v2-int8'"));
    }
}
