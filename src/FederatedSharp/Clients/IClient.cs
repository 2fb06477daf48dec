namespace FederatedSharp.Clients;

/// <summary>
/// A participant of the federation (a hospital): it owns its data, trains on it when asked and evaluates the global
/// model. Implement it directly, or use a ready trainer such as FederatedSharp.TorchSharp's <c>TorchTrainerClient</c>.
/// </summary>
public interface IClient
{
    /// <summary>Returns the client's properties (data set size, hardware, software versions...).</summary>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The properties.</returns>
    Task<ConfigRecord> GetPropertiesAsync(CancellationToken cancellationToken = default);

    /// <summary>
    /// Trains locally starting from <see cref="FitInstructions.Parameters"/> and returns the new parameters. The
    /// instructions' parameters belong to the caller and must not be modified or kept after the call returns; the
    /// returned <see cref="FitResult"/> and its parameters pass to the caller.
    /// </summary>
    /// <param name="instructions">The global parameters, the round and its configuration.</param>
    /// <param name="cancellationToken">Cancels training (the round's deadline or the federation stopping).</param>
    /// <returns>The locally trained parameters, the number of training examples and metrics.</returns>
    Task<FitResult> FitAsync(FitInstructions instructions, CancellationToken cancellationToken = default);

    /// <summary>Evaluates <see cref="EvaluateInstructions.Parameters"/> on the client's local test data.</summary>
    /// <param name="instructions">The parameters to evaluate, the round and its configuration.</param>
    /// <param name="cancellationToken">Cancels the evaluation.</param>
    /// <returns>The loss, the number of test examples and metrics.</returns>
    Task<EvaluateResult> EvaluateAsync(EvaluateInstructions instructions, CancellationToken cancellationToken = default);

    /// <summary>
    /// Answers a named query task (federated statistics, cross-site evaluation...). The default implementation refuses
    /// every query with <see cref="UnsupportedTaskException"/>, which the server records as an unsupported task.
    /// </summary>
    /// <param name="instructions">The query's name, configuration and optional parameters.</param>
    /// <param name="cancellationToken">Cancels the query.</param>
    /// <returns>The answer.</returns>
    /// <exception cref="UnsupportedTaskException">The client does not know this query.</exception>
    Task<QueryResult> QueryAsync(QueryInstructions instructions, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(instructions);
        return Task.FromException<QueryResult>(new UnsupportedTaskException("query:" + instructions.Name));
    }
}
