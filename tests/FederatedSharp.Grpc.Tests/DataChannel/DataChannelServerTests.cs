using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using FederatedSharp.Clients;
using FederatedSharp.Grpc.Client;
using FederatedSharp.Grpc.DataChannel;
using FederatedSharp.Grpc.Hosting;
using FederatedSharp.Grpc.Security;
using FederatedSharp.Grpc.Tests.TestUtilities;
using FederatedSharp.Parameters;
using Grpc.Core;

namespace FederatedSharp.Grpc.Tests.DataChannel;

/// <summary>The data channel's listener: who may move which bytes, and a federation that goes on past bad connections.</summary>
public class DataChannelServerTests
{
    private static async Task<Stream> ConnectAsync(GrpcFederationHost host, X509Certificate2? clientCertificate)
    {
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync("localhost", host.Transport.DataPort!.Value);
        var ssl = new SslStream(new NetworkStream(socket, ownsSocket: true), leaveInnerStreamOpen: false);
        await ssl.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
        {
            TargetHost = "localhost",
            ClientCertificates = clientCertificate is null ? null : new X509CertificateCollection { clientCertificate },
            RemoteCertificateValidationCallback = FederationCertificates.ServerValidator(TestCertificates.PublicAuthority),
        });
        return ssl;
    }

    private static async Task<DataResponse> RequestAsync(GrpcFederationHost host, X509Certificate2? certificate, string taskId)
    {
        await using Stream stream = await ConnectAsync(host, certificate);
        await DataFrames.WriteRequestAsync(stream, new DataRequest(DataOperation.Download, taskId, "", 0, []), CancellationToken.None);
        return await DataFrames.ReadResponseAsync(stream, CancellationToken.None).WithTimeout();
    }

    private static async Task<FitResult> FitOnceAsync(GrpcFederationHost host, GrpcClientOptions options)
    {
        using var stop = new CancellationTokenSource();
        Task run = TestFederation.Runner(options).RunAsync(new TargetClient(2, 5), stop.Token);
        await host.Transport.WaitForClientsAsync(1).WithTimeout();
        using ModelParameters global = ModelParameters.Create(TestFederation.Layout);
        try
        {
            return await host.Transport.GetConnection(options.ClientId).FitAsync(new FitInstructions(1, global, ConfigRecord.Empty)).WithTimeout();
        }
        finally
        {
            await stop.CancelAsync();
            await run.ContinueWith(_ => { }).WithTimeout();
        }
    }

    [Test]
    public async Task Request_NoClientCertificate_IsRefusedAsUnauthenticated()
    {
        await using GrpcFederationHost host = await TestFederation.StartMutualTlsAsync();

        DataResponse response = await RequestAsync(host, null, "any");

        Assert.That(response.Status, Is.EqualTo(StatusCode.Unauthenticated));
        Assert.That(response.Message, Does.Contain("No credentials"));
        Assert.That(host.Transport.RefusedCalls, Is.EqualTo(1));
    }

    [Test]
    public async Task Request_TaskThatIsNotPending_IsRefusedAsNotFound()
    {
        await using GrpcFederationHost host = await TestFederation.StartMutualTlsAsync();
        using X509Certificate2 certificate = TestCertificates.Authority.IssueClientCertificate("site");

        DataResponse response = await RequestAsync(host, certificate, "no-such-task");

        Assert.That(response.Status, Is.EqualTo(StatusCode.NotFound));
        Assert.That(response.Message, Does.Contain("is not pending"));
    }

    [Test]
    public async Task Request_RevokedClient_IsRefusedAsPermissionDenied()
    {
        await using GrpcFederationHost host = await TestFederation.StartMutualTlsAsync(o => o.Federation.RevokedClientIds.Add("site"));
        using X509Certificate2 certificate = TestCertificates.Authority.IssueClientCertificate("site");

        DataResponse response = await RequestAsync(host, certificate, "any");

        Assert.That(response.Status, Is.EqualTo(StatusCode.PermissionDenied));
        Assert.That(response.Message, Does.Contain("revoked"));
    }

    [Test]
    public async Task Connection_GarbageInsteadOfARequest_IsClosedAndTheFederationGoesOn()
    {
        await using GrpcFederationHost host = await TestFederation.StartMutualTlsAsync();
        using X509Certificate2 certificate = TestCertificates.Authority.IssueClientCertificate("site");
        await using (Stream stream = await ConnectAsync(host, certificate))
        {
            await stream.WriteAsync("GET / HTTP/1.1\r\n\r\n"u8.ToArray());
            Assert.That(await stream.ReadAsync(new byte[16]).AsTask().WithTimeout(), Is.Zero, "the server closes the connection");
        }

        using FitResult result = await FitOnceAsync(host, TestFederation.MutualTlsClient(host, "site"));

        Assert.That(result.ExampleCount, Is.EqualTo(5));
    }

    [Test]
    public async Task FitAsync_PlainTcpDataChannel_MovesTheModelOverIt()
    {
        await using var counter = new FaultInjectingProxy();
        var options = new GrpcFederationHostOptions { AllowInsecureHttp = true };
        options.Federation.AllowUnauthenticatedClients = true;
        options.Federation.DataChannel.AdvertisedPort = counter.Port;
        await using GrpcFederationHost host = await GrpcFederationHost.StartAsync(options, TestLogging.Factory);
        counter.TargetPort = host.Transport.DataPort!.Value;
        var client = new GrpcClientOptions { ServerAddress = host.Address, ClientId = "plain", AllowInsecureHttp = true };

        using FitResult result = await FitOnceAsync(host, client);

        Assert.That(counter.Connections, Is.EqualTo(2), "the download and the upload");
        Assert.That(result.Parameters.Values[0], Is.EqualTo(1f), "halfway from 0 to the target 2");
        Assert.That(host.Transport.BytesReceived, Is.EqualTo(FederatedSharp.Serialization.BinaryModelSerializer.GetSerializedLength(result.Parameters)));
    }

    [Test]
    public async Task FitAsync_ClientThatDeclinesTheDataChannel_UsesGrpcStreams()
    {
        await using var counter = new FaultInjectingProxy();
        await using GrpcFederationHost host = await TestFederation.StartMutualTlsAsync(o => o.Federation.DataChannel.AdvertisedPort = counter.Port);
        counter.TargetPort = host.Transport.DataPort!.Value;
        GrpcClientOptions client = TestFederation.MutualTlsClient(host, "site");
        client.UseDataChannel = false;

        using FitResult result = await FitOnceAsync(host, client);

        Assert.That(result.Parameters.Values[0], Is.EqualTo(1f));
        Assert.That(counter.Connections, Is.Zero);
    }
}
