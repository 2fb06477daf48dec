using FederatedSharp.Aggregation;
using FederatedSharp.Clients;
using FederatedSharp.Diagnostics;
using FederatedSharp.Parameters;
using FederatedSharp.Server.Engine;

namespace FederatedSharp.Server;

/// <summary>
/// The federation's server: owns the global model and runs the round engine. Per round a driver (synchronous rounds by
/// default; FedBuff or secure rounds when those features are used) waits for
/// <see cref="FederatedServerOptions.MinAvailableClients"/>, samples clients with the seeded sampler, sends them the
/// global parameters and the round's configuration, takes each result through the update pipeline (validate, clip,
/// noise, strategy), and builds the new global model when at least <see cref="FederatedServerOptions.MinFitClients"/>
/// updates were accepted (otherwise the previous one stands). The engine then runs federated and centralized
/// evaluation, records the round in the <see cref="History"/>, runs every feature's hooks (checkpoints, audit log,
/// quarantine...) and reports progress. Client failures, timeouts and invalid updates are recorded and never stop the
/// federation; a federation whose rounds mostly failed ends with <see cref="FederationFailedException"/>. Create it
/// with <see cref="FederatedServerBuilder"/>.
/// </summary>
public sealed class FederatedServer
{
    private readonly EngineServices _services;
    private int _running;

    internal FederatedServer(EngineServices services) => _services = services;

    /// <summary>The options in force (a copy taken at build time).</summary>
    public FederatedServerOptions Options => _services.Options;

    /// <summary>The aggregation strategy.</summary>
    public IAggregator Aggregator => _services.Aggregator;

    /// <summary>The features in force, in the order their hooks run.</summary>
    public IReadOnlyList<FederationFeature> Features => _services.Features;

    /// <summary>
    /// A fingerprint of everything that decides the federation's outcome and must not change across a resume: the
    /// seed, sampling and aggregation-order settings, round policy, quarantine rules, the strategy's type and name,
    /// the model layout, and how rounds run (synchronous, FedBuff or secure). <see cref="FederatedServerOptions.Rounds"/> and deadlines are left out, so a resumed
    /// federation may run longer or wait longer.
    /// </summary>
    public ulong ConfigurationHash => _services.ConfigurationHash;

    /// <summary>Runs every round and returns the final model with the history.</summary>
    /// <param name="progress">Receives a report after every round; null for none.</param>
    /// <param name="cancellationToken">Stops the federation (the running round is abandoned).</param>
    /// <returns>The final global parameters and the history; the caller disposes it.</returns>
    /// <exception cref="OperationCanceledException">The federation was cancelled.</exception>
    /// <exception cref="FederationFailedException">
    /// Too many rounds in a row, or more than <see cref="FederatedServerOptions.MaxFailedRoundFraction"/> of all rounds,
    /// produced no model.
    /// </exception>
    /// <exception cref="InvalidOperationException">The server is already running, or was built for queries only.</exception>
    public async Task<FederationResult> RunAsync(IProgress<RoundReport>? progress = null, CancellationToken cancellationToken = default)
    {
        if (_services.QueryOnly)
        {
            throw new InvalidOperationException("This server was built with BuildForQueries: it answers query tasks only. Build it with UseAggregator, WithInitialParameters and Build to train.");
        }

        if (Interlocked.Exchange(ref _running, 1) == 1)
        {
            throw new InvalidOperationException("This server is already running a federation.");
        }

        try
        {
            return await new RoundEngine(_services).RunAsync(progress, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            Volatile.Write(ref _running, 0);
        }
    }

    /// <summary>
    /// Sends a named query task to clients (federated statistics, cross-site evaluation...) through the same client-call
    /// path as training: deadline <see cref="FederatedServerOptions.QueryTimeout"/>, cancellation, retries, failures
    /// recorded. A client that does not implement the query fails with <see cref="ClientFailureKind.Unsupported"/>.
    /// </summary>
    /// <param name="name">The query's name.</param>
    /// <param name="config">Its configuration; null for none.</param>
    /// <param name="clientIds">The clients to ask; null for every connected client.</param>
    /// <param name="parameters">Parameters to send with the query (for example a model to evaluate); null for none.</param>
    /// <param name="cancellationToken">Cancels the query.</param>
    /// <returns>Each answering client's result and each failure; the caller disposes it.</returns>
    /// <exception cref="ArgumentException"><paramref name="name"/> is null or empty.</exception>
    /// <exception cref="OperationCanceledException">The query was cancelled.</exception>
    public async Task<QueryRoundResult> QueryAsync(
        string name, ConfigRecord? config = null, IReadOnlyList<string>? clientIds = null, ModelParameters? parameters = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        IReadOnlyList<string> clients = clientIds ?? _services.Transport.GetAvailableClients();
        var instructions = new QueryInstructions(name, (config?.Copy() ?? new ConfigRecord()).Freeze(), parameters);
        (List<ClientQueryResult> answers, List<ClientFailure> failures) = await CallAllAsync(
            clients, RoundPhase.Query, _services.Options.QueryTimeout, (c, ct) => c.QueryAsync(instructions, ct), (id, r) => new ClientQueryResult(id, r), cancellationToken).ConfigureAwait(false);
        Log.QueryCompleted(_services.Logger, name, answers.Count, clients.Count);
        return new QueryRoundResult(answers, failures);
    }

    /// <summary>
    /// Evaluates given parameters on clients' local test data through the engine's client-call path (deadline
    /// <see cref="FederatedServerOptions.EvaluateTimeout"/>, retries, failures recorded), outside any round: for
    /// cross-site evaluation, or to evaluate a model chosen after training.
    /// </summary>
    /// <param name="parameters">The parameters to evaluate; the caller keeps ownership.</param>
    /// <param name="clientIds">The clients to ask; null for every connected client.</param>
    /// <param name="config">The evaluation configuration; null for none.</param>
    /// <param name="cancellationToken">Cancels the evaluation.</param>
    /// <returns>Each answering client's loss, example count and metrics, in the order asked, and each failure.</returns>
    /// <exception cref="OperationCanceledException">The evaluation was cancelled.</exception>
    public async Task<(IReadOnlyList<ClientEvaluateMetrics> Results, IReadOnlyList<ClientFailure> Failures)> EvaluateAsync(
        ModelParameters parameters, IReadOnlyList<string>? clientIds = null, ConfigRecord? config = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        IReadOnlyList<string> clients = clientIds ?? _services.Transport.GetAvailableClients();
        var instructions = new EvaluateInstructions(0, parameters, (config?.Copy() ?? new ConfigRecord()).Freeze());
        (List<ClientEvaluateMetrics> results, List<ClientFailure> failures) = await CallAllAsync(
            clients, RoundPhase.Evaluate, _services.Options.EvaluateTimeout, (c, ct) => c.EvaluateAsync(instructions, ct),
            (id, r) => new ClientEvaluateMetrics(id, r.ExampleCount, r.Loss, r.Metrics), cancellationToken).ConfigureAwait(false);
        return (results, failures);
    }

    // One call per client through the engine's client-call path (deadline, retries); answers in the order asked, failures recorded.
    private async Task<(List<TAnswer> Answers, List<ClientFailure> Failures)> CallAllAsync<TResult, TAnswer>(
        IReadOnlyList<string> clients, RoundPhase phase, TimeSpan timeout, Func<Transport.IClientConnection, CancellationToken, Task<TResult>> call, Func<string, TResult, TAnswer> answer, CancellationToken cancellationToken)
        where TResult : class
    {
        ClientOutcome<TResult>[] outcomes = await Task.WhenAll(clients.Select(id => _services.Caller.CallAsync(id, phase, 0, timeout, call, cancellationToken))).ConfigureAwait(false);
        cancellationToken.ThrowIfCancellationRequested();
        var failures = new List<ClientFailure>();
        var answers = new List<TAnswer>();
        foreach (ClientOutcome<TResult> outcome in outcomes)
        {
            if (outcome.Failure is not null)
            {
                _services.Caller.Record(failures, 0, outcome.Failure);
            }
            else
            {
                answers.Add(answer(outcome.ClientId, outcome.Result!));
            }
        }

        return (answers, failures);
    }
}
