using System.Net;
using System.Security.Cryptography.X509Certificates;

namespace FederatedSharp.Grpc.DataChannel;

/// <summary>
/// The data channel: a plain TCP or TLS listener beside the gRPC endpoint that carries model bytes (downloads and
/// uploads) at socket speed, with cumulative acknowledgements so a cut transfer resumes from the last acknowledged
/// byte. The gRPC session stays the control channel; clients learn the data port at registration and fall back to
/// gRPC streams when it is off. Callers authenticate as on gRPC (client certificate or bearer token) and may only
/// move their own tasks' bytes; every transfer is checksummed (XxHash3).
/// </summary>
public sealed class DataChannelOptions
{
    /// <summary>Whether the server listens for data connections; default false (the one-call host turns it on).</summary>
    public bool Enabled { get; set; }

    /// <summary>The address to listen on; default all IPv4 addresses.</summary>
    public IPAddress ListenAddress { get; set; } = IPAddress.Any;

    /// <summary>The port to listen on; 0 (the default) picks a free one.</summary>
    public int Port { get; set; }

    /// <summary>
    /// The port clients are told to dial, when they reach the data channel through a forwarder or NAT on another port;
    /// null (the default) for the port listened on. Clients dial the host of the gRPC address.
    /// </summary>
    public int? AdvertisedPort { get; set; }

    /// <summary>
    /// The server certificate with its key. When set, data connections are TLS (client certificates are requested and
    /// checked against the federation CA); when null, plain TCP (allowed only where the federation allows
    /// unauthenticated clients or bearer tokens on a trusted network).
    /// </summary>
    public X509Certificate2? ServerCertificate { get; set; }

    /// <summary>
    /// The most bytes a sender has on the wire beyond the receiver's last acknowledgement (default 8 MiB): it bounds
    /// what a cut connection costs to send again.
    /// </summary>
    public int WindowBytes { get; set; } = 8 * 1024 * 1024;

    /// <summary>Checks the settings.</summary>
    /// <exception cref="ArgumentException">A setting is out of range.</exception>
    public void Validate()
    {
        ArgumentNullException.ThrowIfNull(ListenAddress, nameof(ListenAddress));
        ArgumentOutOfRangeException.ThrowIfNegative(Port, nameof(Port));
        ArgumentOutOfRangeException.ThrowIfGreaterThan(Port, IPEndPoint.MaxPort, nameof(Port));
        if (AdvertisedPort is int advertised && (advertised < 1 || advertised > IPEndPoint.MaxPort))
        {
            throw new ArgumentOutOfRangeException(nameof(AdvertisedPort), advertised, "Must be a port number (1-65535).");
        }

        ArgumentOutOfRangeException.ThrowIfLessThan(WindowBytes, 64 * 1024, nameof(WindowBytes));
    }
}
