namespace FederatedSharp.Transport;

/// <summary>Thrown by a transport when a client's call failed (the client threw, crashed or disconnected).</summary>
public sealed class ClientFailedException : FederatedException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="clientId">The client.</param>
    /// <param name="message">What happened.</param>
    /// <param name="innerException">The client's exception, if any.</param>
    public ClientFailedException(string clientId, string message, Exception? innerException = null)
        : base($"Client '{clientId}' failed: {message}", innerException)
    {
        ClientId = clientId;
    }

    /// <summary>The client.</summary>
    public string ClientId { get; }
}
