using FederatedSharp.Clients;
using FederatedSharp.Parameters;

namespace FederatedSharp.Server;

/// <summary>
/// Cross-site evaluation (NVIDIA FLARE's cross-site validation): after training, every site sends its locally trained
/// model (<see cref="CrossSiteQueries.LocalModel"/>; wrap sites in <see cref="LocalModelClient"/>), and the global model
/// and each local model are evaluated on every site's test data, giving a (sites + 1) x sites matrix. Note what it
/// shares: each site's local model reaches the server and the other sites.
/// </summary>
public sealed class CrossSiteEvaluation
{
    private readonly FederatedServer _server;

    /// <summary>Creates the evaluation over the server's clients.</summary>
    /// <param name="server">The server that trained (or any server reaching the sites).</param>
    public CrossSiteEvaluation(FederatedServer server) => _server = server ?? throw new ArgumentNullException(nameof(server));

    /// <summary>Evaluates the federation's final model and every site's local model on every site, and keeps the matrix in its history.</summary>
    /// <param name="result">The federation's result: its parameters are the global model, its history receives <see cref="History.CrossSite"/>.</param>
    /// <param name="sites">The sites; null for every connected client.</param>
    /// <param name="config">The evaluation configuration; null for none.</param>
    /// <param name="cancellationToken">Cancels the evaluation.</param>
    /// <returns>The matrix.</returns>
    public async Task<CrossSiteMatrix> EvaluateAsync(FederationResult result, IReadOnlyList<string>? sites = null, ConfigRecord? config = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(result);
        CrossSiteMatrix matrix = await EvaluateAsync(result.Parameters, sites, config, cancellationToken).ConfigureAwait(false);
        result.History.CrossSite = matrix;
        return matrix;
    }

    /// <summary>Evaluates <paramref name="global"/> and every site's local model on every site.</summary>
    /// <param name="global">The global model; the caller keeps ownership.</param>
    /// <param name="sites">The sites; null for every connected client.</param>
    /// <param name="config">The evaluation configuration; null for none.</param>
    /// <param name="cancellationToken">Cancels the evaluation.</param>
    /// <returns>The matrix.</returns>
    public async Task<CrossSiteMatrix> EvaluateAsync(ModelParameters global, IReadOnlyList<string>? sites = null, ConfigRecord? config = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(global);
        var failures = new List<ClientFailure>();
        using QueryRoundResult locals = await _server.QueryAsync(CrossSiteQueries.LocalModel, clientIds: sites, cancellationToken: cancellationToken).ConfigureAwait(false);
        failures.AddRange(locals.Failures);
        var models = new List<(string Name, ModelParameters Parameters)> { (CrossSiteMatrix.GlobalModel, global) };
        foreach (ClientQueryResult answer in locals.Results)
        {
            if (answer.Result.Parameters is not { } parameters)
            {
                failures.Add(new ClientFailure(answer.ClientId, RoundPhase.Query, ClientFailureKind.Rejected, "The site answered without a model."));
            }
            else if (!parameters.Layout.Equals(global.Layout))
            {
                failures.Add(new ClientFailure(answer.ClientId, RoundPhase.Query, ClientFailureKind.Rejected, "The site's model does not have the global model's layout."));
            }
            else
            {
                models.Add((answer.ClientId, parameters));
            }
        }

        IReadOnlyList<string> columns = sites ?? locals.Results.Select(r => r.ClientId).Concat(locals.Failures.Select(f => f.ClientId)).Distinct().ToList();
        var cells = new Dictionary<(string, string), ClientEvaluateMetrics>();
        foreach ((string name, ModelParameters parameters) in models)
        {
            (IReadOnlyList<ClientEvaluateMetrics> results, IReadOnlyList<ClientFailure> evaluationFailures) =
                await _server.EvaluateAsync(parameters, columns, config, cancellationToken).ConfigureAwait(false);
            failures.AddRange(evaluationFailures);
            foreach (ClientEvaluateMetrics cell in results)
            {
                cells[(name, cell.ClientId)] = cell;
            }
        }

        return new CrossSiteMatrix(models.Select(m => m.Name).ToArray(), columns.ToArray(), cells, failures);
    }
}
