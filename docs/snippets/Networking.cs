using System.Security.Cryptography.X509Certificates;
using FederatedSharp.Aggregation;
using FederatedSharp.Clients;
using FederatedSharp.Compression;
using FederatedSharp.Grpc.Client;
using FederatedSharp.Grpc.Hosting;
using FederatedSharp.Grpc.Security;
using FederatedSharp.Parameters;
using FederatedSharp.Serialization;
using FederatedSharp.Server;
using FederatedSharp.Transport;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;

namespace Snippets;

public static class Networking
{
    public static void CreateCertificates(string dir)
    {
        // snippet: grpc-certificates
        using var ca = FederationCertificateAuthority.Create("Cardiology federation CA");
        ca.Save(Path.Combine(dir, "ca.pem"), Path.Combine(dir, "ca.key"));          // keep ca.key offline
        using X509Certificate2 server = ca.IssueServerCertificate(["federation.example.org"]);
        FederationCertificates.SavePem(server, Path.Combine(dir, "server.pem"), Path.Combine(dir, "server.key"));
        foreach (string hospital in new[] { "cleveland", "hungary", "switzerland", "va-long-beach" })
        {
            using X509Certificate2 client = ca.IssueClientCertificate(hospital);   // common name = client id
            FederationCertificates.SavePem(client, Path.Combine(dir, hospital + ".pem"), Path.Combine(dir, hospital + ".key"));
        }
        // end snippet
    }

    public static async Task<FederationResult> ServerAsync(string dir, ModelParameters initialModel, CancellationToken cancellationToken)
    {
        // snippet: grpc-server
        var options = new GrpcFederationHostOptions
        {
            ListenAddress = System.Net.IPAddress.Any,
            Port = 5443,
            ServerCertificate = FederationCertificates.LoadPem(Path.Combine(dir, "server.pem"), Path.Combine(dir, "server.key")),
        };
        options.Federation.ClientCertificateAuthority = FederationCertificates.LoadCertificatePem(Path.Combine(dir, "ca.pem"));
        options.Federation.AllowedClientIds.UnionWith(["cleveland", "hungary", "switzerland", "va-long-beach"]);
        await using GrpcFederationHost host = await GrpcFederationHost.StartAsync(options, cancellationToken: cancellationToken);

        FederatedServer server = new FederatedServerBuilder()
            .UseTransport(host.Transport)                     // the same round loop as in simulation
            .UseAggregator(new FedAvg())
            .WithInitialParameters(initialModel)
            .Configure(o => { o.Rounds = 15; o.MinAvailableClients = 4; o.FitTimeout = TimeSpan.FromMinutes(5); })
            .Build();
        return await server.RunAsync(cancellationToken: cancellationToken);
        // end snippet
    }

    public static async Task ClientAsync(string dir, IClient myClient, CancellationToken cancellationToken)
    {
        // snippet: grpc-client
        var runner = new GrpcClientRunner(new GrpcClientOptions
        {
            ServerAddress = new Uri("https://federation.example.org:5443"),
            ClientId = "cleveland",
            ClientCertificate = FederationCertificates.LoadPem(Path.Combine(dir, "cleveland.pem"), Path.Combine(dir, "cleveland.key")),
            TrustedCertificateAuthority = FederationCertificates.LoadCertificatePem(Path.Combine(dir, "ca.pem")),
        });
        await runner.RunAsync(myClient, cancellationToken);  // reconnects on its own; returns when the federation ends
        // end snippet
    }

    public static async Task<FederationResult> CompressedAsync(GrpcFederationHostOptions options, ModelParameters initialModel, CancellationToken cancellationToken)
    {
        // snippet: sparse-updates-server
        // Server: int8 models down, top-k deltas up (10% of the values, the rest carried over by each client).
        options.Federation.Serializer = new BinaryModelSerializer(new BinaryModelSerializerOptions { Encoding = ElementEncoding.Int8 });
        options.Federation.UplinkSerializer = new SparseModelSerializer();
        await using GrpcFederationHost host = await GrpcFederationHost.StartAsync(options, cancellationToken: cancellationToken);
        FederatedServer server = new FederatedServerBuilder()
            .UseTransport(host.Transport)
            .UseAggregator(new FedAvg())
            .WithInitialParameters(initialModel)
            .UseSparseUpdates(0.10)
            .Build();
        return await server.RunAsync(cancellationToken: cancellationToken);
        // end snippet
    }

    public static Task ClientCompressedAsync(GrpcClientOptions options, IClient myClient, CancellationToken cancellationToken)
    {
        // snippet: sparse-updates-client
        // Client: the same formats (checked at registration), and the client wrapped so it sends top-k deltas.
        options.Serializer = new BinaryModelSerializer(new BinaryModelSerializerOptions { Encoding = ElementEncoding.Int8 });
        options.UplinkSerializer = new SparseModelSerializer();
        return new GrpcClientRunner(options).RunAsync(new TopKUpdateClient(myClient), cancellationToken);
        // end snippet
    }

    public static async Task<FederationResult> DownlinkDeltasAsync(GrpcFederationHostOptions options, ModelParameters initialModel, CancellationToken cancellationToken)
    {
        // snippet: downlink-deltas-server
        // Server: top-k deltas both ways, in the sparse format: 10% of the difference from the model each client holds
        // goes down, 10% of each client's change comes up; what is not sent waits for a later round on both sides.
        options.Federation.Serializer = new SparseModelSerializer();
        options.Federation.UplinkSerializer = new SparseModelSerializer();
        await using GrpcFederationHost host = await GrpcFederationHost.StartAsync(options, cancellationToken: cancellationToken);
        FederatedServer server = new FederatedServerBuilder()
            .UseTransport(host.Transport)
            .UseAggregator(new FedAvg())
            .WithInitialParameters(initialModel)
            .UseDownlinkDeltas(0.10)
            .UseSparseUpdates(0.10)
            .Build();
        return await server.RunAsync(cancellationToken: cancellationToken);
        // end snippet
    }

    public static Task ClientDownlinkDeltasAsync(GrpcClientOptions options, IClient myClient, CancellationToken cancellationToken)
    {
        // snippet: downlink-deltas-client
        // Client: the reference model is kept in the runner's client state; DownlinkDeltaClient goes outermost.
        options.Serializer = new SparseModelSerializer();
        options.UplinkSerializer = new SparseModelSerializer();
        return new GrpcClientRunner(options).RunAsync(new DownlinkDeltaClient(new TopKUpdateClient(myClient)), cancellationToken);
        // end snippet
    }
}
