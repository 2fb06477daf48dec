using System.Security.Cryptography.X509Certificates;
using FederatedSharp.Grpc.DataChannel;
using FederatedSharp.Serialization;

namespace FederatedSharp.Grpc.Server;

/// <summary>Settings of the gRPC federation service: authentication, limits, timeouts and the wire format.</summary>
public sealed class GrpcFederationOptions
{
    /// <summary>
    /// The federation CA: when set, clients authenticate with a client certificate it issued (mutual TLS) and the
    /// certificate's common name is the client id. The server's TLS endpoint must request client certificates (the
    /// one-call host and <c>UseFederationHttps</c> do).
    /// </summary>
    public X509Certificate2? ClientCertificateAuthority { get; set; }

    /// <summary>Thumbprints (SHA-1 hex, case-insensitive) of client certificates that are revoked.</summary>
    public ISet<string> RevokedCertificateThumbprints { get; } = new HashSet<string>(StringComparer.OrdinalIgnoreCase);

    /// <summary>Bearer tokens by client id: a client sends <c>authorization: Bearer &lt;token&gt;</c>. An alternative or addition to certificates.</summary>
    public IDictionary<string, string> ClientTokens { get; } = new Dictionary<string, string>(StringComparer.Ordinal);

    /// <summary>When not empty, only these client ids may register (others are "unknown").</summary>
    public ISet<string> AllowedClientIds { get; } = new HashSet<string>(StringComparer.Ordinal);

    /// <summary>Client ids refused even with a valid certificate or token.</summary>
    public ISet<string> RevokedClientIds { get; } = new HashSet<string>(StringComparer.Ordinal);

    /// <summary>
    /// Lets clients in without a certificate or token (any client id). Only for tests and loopback simulations; default
    /// false, and the service refuses to start without some authentication unless this is set.
    /// </summary>
    public bool AllowUnauthenticatedClients { get; set; }

    /// <summary>The serializer for models on the wire (clients must use the same format); default float32 FSMP.</summary>
    public IModelSerializer Serializer { get; set; } = new BinaryModelSerializer();

    /// <summary>
    /// The format of the clients' results when it differs from <see cref="Serializer"/>'s, which then carries only the
    /// global model down (for example int8 models down, <see cref="SparseModelSerializer"/> top-k deltas up). Clients
    /// are told both formats at registration and must use the same. Null (default): <see cref="Serializer"/> both ways.
    /// </summary>
    public IModelSerializer? UplinkSerializer { get; set; }

    /// <summary>The format of the clients' results: <see cref="UplinkSerializer"/>, or <see cref="Serializer"/>.</summary>
    internal IModelSerializer Uplink => UplinkSerializer ?? Serializer;

    /// <summary>Bytes per model chunk; default 1 MiB.</summary>
    public int ChunkBytes { get; set; } = GrpcProtocol.DefaultChunkBytes;

    /// <summary>The largest gRPC message accepted (config records travel whole in one message); default 64 MiB.</summary>
    public int MaxMessageBytes { get; set; } = 64 * 1024 * 1024;

    /// <summary>The largest serialized model a client may upload; default 16 GiB.</summary>
    public long MaxModelBytes { get; set; } = 16L * 1024 * 1024 * 1024;

    /// <summary>The most clients connected at once; registration beyond it is refused with RESOURCE_EXHAUSTED.</summary>
    public int MaxClients { get; set; } = 10_000;

    /// <summary>
    /// Updates being received or held by the server at once; further uploads wait. A slot is given back when the
    /// server disposes the <see cref="Clients.FitResult"/>, which bounds memory however many clients there are.
    /// </summary>
    public int MaxConcurrentUploads { get; set; } = 8;

    /// <summary>How often clients send heartbeats; default 5 s.</summary>
    public TimeSpan HeartbeatInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>A client silent for this long is marked gone and its pending tasks fail; default 30 s.</summary>
    public TimeSpan HeartbeatTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// How long the pending tasks of a client whose connection was lost wait for it to register again and say it is
    /// still working on them (its downloads and uploads on the data channel then resume where they stopped); they fail
    /// when it does not come back in time. Default 0: they fail at once, so a round never waits for a lost client.
    /// </summary>
    public TimeSpan ResumeGrace { get; set; } = TimeSpan.Zero;

    /// <summary>The longest wait for any single message (registration, a header, the next chunk); default 60 s.</summary>
    public TimeSpan MessageTimeout { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>The data channel that carries model bytes beside the gRPC control stream; off unless enabled.</summary>
    public DataChannelOptions DataChannel { get; } = new();

    /// <summary>Checks the settings.</summary>
    /// <exception cref="ArgumentException">A setting is out of range or no authentication is configured.</exception>
    public void Validate()
    {
        DataChannel.Validate();
        ArgumentNullException.ThrowIfNull(Serializer, nameof(Serializer));
        ArgumentOutOfRangeException.ThrowIfLessThan(ChunkBytes, 1024, nameof(ChunkBytes));
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxMessageBytes, ChunkBytes + 4096, nameof(MaxMessageBytes));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(MaxModelBytes, nameof(MaxModelBytes));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(MaxClients, nameof(MaxClients));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(MaxConcurrentUploads, nameof(MaxConcurrentUploads));
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(HeartbeatInterval, TimeSpan.Zero, nameof(HeartbeatInterval));
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(HeartbeatTimeout, HeartbeatInterval, nameof(HeartbeatTimeout));
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(MessageTimeout, TimeSpan.Zero, nameof(MessageTimeout));
        ArgumentOutOfRangeException.ThrowIfLessThan(ResumeGrace, TimeSpan.Zero, nameof(ResumeGrace));
        if (ClientCertificateAuthority is null && ClientTokens.Count == 0 && !AllowUnauthenticatedClients)
        {
            throw new ArgumentException(
                "No client authentication is configured: set ClientCertificateAuthority (mutual TLS) or ClientTokens, or set AllowUnauthenticatedClients for tests.");
        }

        if (DataChannel.Enabled && DataChannel.ServerCertificate is null && ClientCertificateAuthority is not null && ClientTokens.Count == 0 && !AllowUnauthenticatedClients)
        {
            throw new ArgumentException(
                "The data channel has no ServerCertificate, so it cannot carry the client certificates this federation authenticates with: set DataChannel.ServerCertificate.");
        }

        foreach (KeyValuePair<string, string> token in ClientTokens)
        {
            if (string.IsNullOrWhiteSpace(token.Key) || token.Value is null || token.Value.Length < 16)
            {
                throw new ArgumentException($"The token of client '{token.Key}' is shorter than 16 characters.", nameof(ClientTokens));
            }
        }
    }
}
