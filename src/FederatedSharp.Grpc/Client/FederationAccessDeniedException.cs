using Grpc.Core;

namespace FederatedSharp.Grpc.Client;

/// <summary>
/// The server refused this client for a reason that retrying will not fix (bad or missing credentials, revoked or
/// unknown client, wrong protocol version, too many clients), so the runner stops instead of reconnecting.
/// </summary>
public sealed class FederationAccessDeniedException : FederatedException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="status">The gRPC status code.</param>
    /// <param name="message">The server's reason.</param>
    /// <param name="innerException">The gRPC exception.</param>
    public FederationAccessDeniedException(StatusCode status, string message, Exception? innerException = null)
        : base($"The federation server refused this client ({status}): {message}", innerException)
    {
        Status = status;
    }

    /// <summary>The gRPC status code.</summary>
    public StatusCode Status { get; }
}
