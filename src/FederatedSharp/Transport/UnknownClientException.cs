namespace FederatedSharp.Transport;

/// <summary>Thrown when a client id is not known to the transport (never connected, or gone).</summary>
public sealed class UnknownClientException : FederatedException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="clientId">The unknown id.</param>
    public UnknownClientException(string clientId)
        : base($"Unknown client '{clientId}': it is not connected to this transport.")
    {
        ClientId = clientId;
    }

    /// <summary>The unknown id.</summary>
    public string ClientId { get; }
}
