namespace FederatedSharp.Server;

/// <summary>The part of a round a client call belongs to.</summary>
public enum RoundPhase
{
    /// <summary>Local training.</summary>
    Fit,

    /// <summary>Federated evaluation.</summary>
    Evaluate,

    /// <summary>A named query task (federated analytics, cross-site evaluation).</summary>
    Query,
}
