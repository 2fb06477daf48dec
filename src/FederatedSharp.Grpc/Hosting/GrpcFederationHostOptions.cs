using System.Net;
using System.Security.Cryptography.X509Certificates;
using FederatedSharp.Grpc.Server;

namespace FederatedSharp.Grpc.Hosting;

/// <summary>Settings of <see cref="GrpcFederationHost"/>.</summary>
public sealed class GrpcFederationHostOptions
{
    /// <summary>The address to listen on; default loopback (use <see cref="IPAddress.Any"/> to accept remote clients).</summary>
    public IPAddress ListenAddress { get; set; } = IPAddress.Loopback;

    /// <summary>The port; 0 (default) picks a free one, see <see cref="GrpcFederationHost.Address"/>.</summary>
    public int Port { get; set; }

    /// <summary>The server's TLS certificate with its key. Required unless <see cref="AllowInsecureHttp"/>.</summary>
    public X509Certificate2? ServerCertificate { get; set; }

    /// <summary>Serve HTTP/2 without TLS. Only for tests and loopback simulations; default false.</summary>
    public bool AllowInsecureHttp { get; set; }

    /// <summary>The clock of the transport's heartbeats, timeouts and shutdown grace; null (default) for the system clock.</summary>
    public TimeProvider? TimeProvider { get; set; }

    /// <summary>
    /// Carries model bytes over the data channel (default true): a second port on <see cref="ListenAddress"/> with the
    /// same certificate, resumable and at socket speed; clients fall back to gRPC streams when it is off. The host
    /// fills in <see cref="GrpcFederationOptions.DataChannel"/>'s address and certificate where they are not set.
    /// </summary>
    public bool EnableDataChannel { get; set; } = true;

    /// <summary>Authentication, limits and timeouts of the federation service.</summary>
    public GrpcFederationOptions Federation { get; set; } = new();
}
