using System.Security.Cryptography.X509Certificates;
using FederatedSharp.Clients;
using FederatedSharp.Serialization;

namespace FederatedSharp.Grpc.Client;

/// <summary>Settings of a <see cref="GrpcClientRunner"/>: where the server is, who we are, how to reconnect.</summary>
public sealed class GrpcClientOptions
{
    /// <summary>The server's address, e.g. <c>https://federation.example.org:5443</c>.</summary>
    public Uri? ServerAddress { get; set; }

    /// <summary>This participant's client id (with a client certificate it must equal the certificate's common name).</summary>
    public string ClientId { get; set; } = "";

    /// <summary>Properties sent at registration (e.g. site name, data set size).</summary>
    public ConfigRecord? Properties { get; set; }

    /// <summary>The client certificate with its private key, for mutual TLS.</summary>
    public X509Certificate2? ClientCertificate { get; set; }

    /// <summary>The federation CA the server's certificate must chain to; null to use the system's trusted roots.</summary>
    public X509Certificate2? TrustedCertificateAuthority { get; set; }

    /// <summary>A bearer token, sent as <c>authorization: Bearer &lt;token&gt;</c> on every call.</summary>
    public string? BearerToken { get; set; }

    /// <summary>Must match the server's model format; default float32 FSMP.</summary>
    public IModelSerializer Serializer { get; set; } = new BinaryModelSerializer();

    /// <summary>
    /// The format of this client's results when the server asks for another one than <see cref="Serializer"/>'s (its
    /// <see cref="Server.GrpcFederationOptions.UplinkSerializer"/>); null (default): <see cref="Serializer"/> both ways.
    /// </summary>
    public IModelSerializer? UplinkSerializer { get; set; }

    /// <summary>The format of this client's results: <see cref="UplinkSerializer"/>, or <see cref="Serializer"/>.</summary>
    internal IModelSerializer Uplink => UplinkSerializer ?? Serializer;

    /// <summary>
    /// The client's persistent state, handed to every task as <see cref="FitInstructions.State"/> (SCAFFOLD's control
    /// variate, a DP-SGD accountant). Null (the default) gives the runner an in-memory state of its own that survives
    /// reconnections; pass one you persist to keep it across restarts of the process.
    /// </summary>
    public ClientState? State { get; set; }

    /// <summary>The largest chunk this client sends (the server's advertised size wins when smaller); default 1 MiB.</summary>
    public int ChunkBytes { get; set; } = GrpcProtocol.DefaultChunkBytes;

    /// <summary>The largest gRPC message accepted from the server; default 64 MiB.</summary>
    public int MaxMessageBytes { get; set; } = 64 * 1024 * 1024;

    /// <summary>The largest model accepted from the server; default 16 GiB.</summary>
    public long MaxModelBytes { get; set; } = 16L * 1024 * 1024 * 1024;

    /// <summary>The first reconnection delay; it doubles per failed attempt up to <see cref="MaxReconnectDelay"/>, with ±50% jitter.</summary>
    public TimeSpan InitialReconnectDelay { get; set; } = TimeSpan.FromMilliseconds(500);

    /// <summary>The longest reconnection delay; default 30 s.</summary>
    public TimeSpan MaxReconnectDelay { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Consecutive failed connection attempts before giving up; null (default) to keep trying.</summary>
    public int? MaxReconnectAttempts { get; set; }

    /// <summary>The longest wait for the next chunk of a model; default 60 s.</summary>
    public TimeSpan MessageTimeout { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>
    /// Moves model bytes over the server's data channel when it offers one (default true): socket speed, and a cut
    /// transfer resumes instead of starting over. False keeps them on gRPC streams.
    /// </summary>
    public bool UseDataChannel { get; set; } = true;

    /// <summary>
    /// Consecutive failed attempts to resume a cut data-channel transfer before the task fails with the reason
    /// (default 5; the waits between them double from <see cref="InitialReconnectDelay"/>).
    /// </summary>
    public int MaxResumeAttempts { get; set; } = 5;

    /// <summary>
    /// Allows <c>http://</c> (HTTP/2 without TLS). Default false: then only <c>https://</c> addresses are accepted.
    /// Only for tests and loopback simulations.
    /// </summary>
    public bool AllowInsecureHttp { get; set; }

    /// <summary>Checks the settings.</summary>
    /// <exception cref="ArgumentException">A setting is missing or out of range.</exception>
    public void Validate()
    {
        if (ServerAddress is null || !ServerAddress.IsAbsoluteUri)
        {
            throw new ArgumentException("ServerAddress must be an absolute URI.", nameof(ServerAddress));
        }

        if (ServerAddress.Scheme != Uri.UriSchemeHttps && !(ServerAddress.Scheme == Uri.UriSchemeHttp && AllowInsecureHttp))
        {
            throw new ArgumentException($"ServerAddress '{ServerAddress}' is not https; set AllowInsecureHttp only for tests and loopback.", nameof(ServerAddress));
        }

        if (string.IsNullOrWhiteSpace(ClientId) || ClientId.Length > 256)
        {
            throw new ArgumentException("ClientId must be 1-256 characters.", nameof(ClientId));
        }

        ArgumentNullException.ThrowIfNull(Serializer, nameof(Serializer));
        ArgumentOutOfRangeException.ThrowIfLessThan(ChunkBytes, 1024, nameof(ChunkBytes));
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxMessageBytes, ChunkBytes + 4096, nameof(MaxMessageBytes));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(MaxModelBytes, nameof(MaxModelBytes));
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(InitialReconnectDelay, TimeSpan.Zero, nameof(InitialReconnectDelay));
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxReconnectDelay, InitialReconnectDelay, nameof(MaxReconnectDelay));
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(MessageTimeout, TimeSpan.Zero, nameof(MessageTimeout));
        ArgumentOutOfRangeException.ThrowIfNegative(MaxResumeAttempts, nameof(MaxResumeAttempts));
        if (MaxReconnectAttempts is < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxReconnectAttempts), MaxReconnectAttempts, "Must not be negative.");
        }
    }
}
