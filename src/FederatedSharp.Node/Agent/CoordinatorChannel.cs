using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using FederatedSharp.Grpc.Security;
using Grpc.Net.Client;

namespace FederatedSharp.Node;

/// <summary>gRPC channels to the coordinator: TLS that trusts only the coordinator's CA, with the node's certificate once it has one.</summary>
internal static class CoordinatorChannel
{
    public static GrpcChannel Create(Uri coordinator, X509Certificate2 authority, X509Certificate2? clientCertificate)
    {
        var ssl = new SslClientAuthenticationOptions { RemoteCertificateValidationCallback = FederationCertificates.ServerValidator(authority) };
        if (clientCertificate is not null)
        {
            ssl.ClientCertificates = new X509CertificateCollection { clientCertificate };
        }

        var handler = new SocketsHttpHandler
        {
            SslOptions = ssl,
            ConnectTimeout = TimeSpan.FromSeconds(15),
            KeepAlivePingDelay = TimeSpan.FromSeconds(20),
            KeepAlivePingTimeout = TimeSpan.FromSeconds(20),
            KeepAlivePingPolicy = HttpKeepAlivePingPolicy.WithActiveRequests,
        };
        return GrpcChannel.ForAddress(coordinator, new GrpcChannelOptions { HttpHandler = handler, DisposeHttpClient = true });
    }
}
