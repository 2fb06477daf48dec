namespace FederatedSharp.Server;

/// <summary>
/// Every model evaluated on every site's test data: row <see cref="GlobalModel"/> for the global model, then one row per
/// site's locally trained model; one column per evaluating site. A missing cell is a failed or refused evaluation.
/// </summary>
public sealed class CrossSiteMatrix
{
    /// <summary>The row name of the global model.</summary>
    public const string GlobalModel = "global";

    private readonly Dictionary<(string Model, string Site), ClientEvaluateMetrics> _cells;

    internal CrossSiteMatrix(IReadOnlyList<string> models, IReadOnlyList<string> sites, Dictionary<(string, string), ClientEvaluateMetrics> cells, IReadOnlyList<ClientFailure> failures)
    {
        Models = models;
        Sites = sites;
        _cells = cells;
        Failures = failures;
    }

    /// <summary>The rows: <see cref="GlobalModel"/>, then the sites whose local model was evaluated.</summary>
    public IReadOnlyList<string> Models { get; }

    /// <summary>The columns: the sites that evaluated.</summary>
    public IReadOnlyList<string> Sites { get; }

    /// <summary>The sites that did not send a model or did not evaluate one, and why.</summary>
    public IReadOnlyList<ClientFailure> Failures { get; }

    /// <summary>One cell: model <paramref name="model"/> on site <paramref name="site"/>'s data.</summary>
    /// <param name="model">The row.</param>
    /// <param name="site">The column.</param>
    /// <returns>The evaluation, or null when it failed.</returns>
    public ClientEvaluateMetrics? this[string model, string site] => _cells.TryGetValue((model, site), out ClientEvaluateMetrics? cell) ? cell : null;

    /// <summary>A metric (or <c>loss</c>) as a matrix [model, site]; NaN where an evaluation failed or lacks the metric.</summary>
    /// <param name="metric">A numeric evaluation metric name, or <c>loss</c>.</param>
    /// <returns>The values.</returns>
    public double[,] Values(string metric)
    {
        ArgumentException.ThrowIfNullOrEmpty(metric);
        var values = new double[Models.Count, Sites.Count];
        for (int m = 0; m < Models.Count; m++)
        {
            for (int s = 0; s < Sites.Count; s++)
            {
                ClientEvaluateMetrics? cell = this[Models[m], Sites[s]];
                values[m, s] = cell is null ? double.NaN
                    : metric == "loss" ? cell.Loss
                    : cell.Metrics.TryGetValue(metric, out Clients.ConfigValue v) && v.IsNumeric ? v.AsDouble() : double.NaN;
            }
        }

        return values;
    }
}
