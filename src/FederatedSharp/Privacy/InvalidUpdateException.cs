namespace FederatedSharp.Privacy;

/// <summary>Thrown when a client update fails validation (non-finite values, bad example count, norm too large).</summary>
public sealed class InvalidUpdateException : FederatedException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="clientId">The client whose update was rejected.</param>
    /// <param name="reason">Why.</param>
    public InvalidUpdateException(string clientId, string reason)
        : base($"Rejected update from client '{clientId}': {reason}")
    {
        ClientId = clientId;
        Reason = reason;
    }

    /// <summary>The client whose update was rejected.</summary>
    public string ClientId { get; }

    /// <summary>Why the update was rejected.</summary>
    public string Reason { get; }
}
