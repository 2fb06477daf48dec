namespace FederatedSharp.Server;

/// <summary>
/// Thrown by <see cref="FederatedServer.RunAsync"/> when <see cref="FederatedServerOptions.MaxConsecutiveFailedRounds"/>
/// rounds in a row produced no model: the federation stops instead of spinning. The last checkpoint is still valid.
/// </summary>
public sealed class FederationFailedException : FederatedException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">What happened.</param>
    /// <param name="history">The history up to the last failed round.</param>
    public FederationFailedException(string message, History history)
        : base(message)
    {
        History = history;
    }

    /// <summary>The history up to the last failed round (its records say why each round failed).</summary>
    public History History { get; }
}
