namespace FederatedSharp.Clients;

/// <summary>
/// Thrown by a client (or a transport) asked to run a task it does not implement, such as a query it does not know.
/// The server records it as <see cref="Server.ClientFailureKind.Unsupported"/> and the federation goes on.
/// </summary>
public sealed class UnsupportedTaskException : FederatedException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="task">The task's name, for example <c>query:statistics</c>.</param>
    /// <param name="message">What the client supports instead; null for a default message.</param>
    public UnsupportedTaskException(string task, string? message = null)
        : base(message ?? $"This client does not support the task '{task}'.")
    {
        Task = task;
    }

    /// <summary>The task that is not supported.</summary>
    public string Task { get; }
}
