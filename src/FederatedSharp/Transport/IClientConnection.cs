using FederatedSharp.Clients;

namespace FederatedSharp.Transport;

/// <summary>
/// The server's handle on one client. Calls honour their cancellation token: the server cancels it at the
/// round's deadline and stops waiting then in any case, so an implementation need not enforce deadlines itself.
/// </summary>
public interface IClientConnection
{
    /// <summary>The client's id.</summary>
    string ClientId { get; }

    /// <summary>Asks the client for its properties.</summary>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The properties.</returns>
    Task<ConfigRecord> GetPropertiesAsync(CancellationToken cancellationToken = default);

    /// <summary>Sends fit instructions and awaits the client's result.</summary>
    /// <param name="instructions">The global parameters (not modified, not kept) and the round's configuration.</param>
    /// <param name="cancellationToken">Cancels the call (deadline or shutdown).</param>
    /// <returns>The client's result, owned by the caller.</returns>
    /// <exception cref="ClientFailedException">The client failed or disconnected.</exception>
    Task<FitResult> FitAsync(FitInstructions instructions, CancellationToken cancellationToken = default);

    /// <summary>Sends evaluation instructions and awaits the client's result.</summary>
    /// <param name="instructions">The parameters to evaluate and the configuration.</param>
    /// <param name="cancellationToken">Cancels the call (deadline or shutdown).</param>
    /// <returns>The client's result.</returns>
    /// <exception cref="ClientFailedException">The client failed or disconnected.</exception>
    Task<EvaluateResult> EvaluateAsync(EvaluateInstructions instructions, CancellationToken cancellationToken = default);

    /// <summary>
    /// Sends a named query task and awaits the answer. The default implementation refuses with
    /// <see cref="UnsupportedTaskException"/>: a transport that does not carry queries says so clearly.
    /// </summary>
    /// <param name="instructions">The query.</param>
    /// <param name="cancellationToken">Cancels the call (deadline or shutdown).</param>
    /// <returns>The client's answer, owned by the caller.</returns>
    /// <exception cref="UnsupportedTaskException">The transport or the client does not support the query.</exception>
    /// <exception cref="ClientFailedException">The client failed or disconnected.</exception>
    Task<QueryResult> QueryAsync(QueryInstructions instructions, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(instructions);
        return Task.FromException<QueryResult>(new UnsupportedTaskException("query:" + instructions.Name, $"The transport behind client '{ClientId}' does not carry query tasks."));
    }
}
