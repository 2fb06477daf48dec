namespace FederatedSharp.Server;

/// <summary>Why a client's contribution to a round was lost.</summary>
public enum ClientFailureKind
{
    /// <summary>The client (or its transport) threw.</summary>
    Exception,

    /// <summary>No answer before the deadline.</summary>
    Timeout,

    /// <summary>The answer failed validation (layout, NaN/infinity, example count, norm) and was not aggregated.</summary>
    Rejected,

    /// <summary>The client was not connected any more.</summary>
    UnknownClient,

    /// <summary>The round closed before the client answered because enough results were in (not the client's fault).</summary>
    NotNeeded,

    /// <summary>The client does not implement the task it was sent (for example a query it does not know).</summary>
    Unsupported,
}
