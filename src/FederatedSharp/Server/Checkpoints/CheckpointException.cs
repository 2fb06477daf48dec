namespace FederatedSharp.Server.Checkpoints;

/// <summary>Thrown when a checkpoint cannot be used: corrupt, truncated, or written by a different federation configuration.</summary>
public sealed class CheckpointException : FederatedException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">What is wrong.</param>
    /// <param name="innerException">The cause, if any.</param>
    public CheckpointException(string message, Exception? innerException = null)
        : base(message, innerException)
    {
    }
}
