namespace FederatedSharp.Server;

/// <summary>One client's lost contribution to a round, as recorded in the <see cref="History"/>.</summary>
/// <param name="ClientId">The client.</param>
/// <param name="Phase">Fit or evaluate.</param>
/// <param name="Kind">What went wrong.</param>
/// <param name="Reason">The message.</param>
public sealed record ClientFailure(string ClientId, RoundPhase Phase, ClientFailureKind Kind, string Reason);
