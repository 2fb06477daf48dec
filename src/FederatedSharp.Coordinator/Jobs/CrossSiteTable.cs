using System.Text.Json;
using FederatedSharp.Server;

namespace FederatedSharp.Coordinator.Jobs;

/// <summary>
/// A cross-site evaluation as the coordinator keeps it: one metric for the global model and each site's local model
/// (rows) on each site's test data (columns). A missing value is an evaluation that failed or was refused.
/// </summary>
internal sealed record CrossSiteTable(string Metric, IReadOnlyList<string> Models, IReadOnlyList<string> Sites, IReadOnlyList<IReadOnlyList<double?>> Values)
{
    private static readonly JsonSerializerOptions Json = new() { PropertyNamingPolicy = JsonNamingPolicy.CamelCase };

    /// <summary>The table of <paramref name="metric"/> (or <c>loss</c>) from a matrix.</summary>
    public static CrossSiteTable From(CrossSiteMatrix matrix, string metric)
    {
        ArgumentNullException.ThrowIfNull(matrix);
        double[,] values = matrix.Values(metric);
        var rows = new List<IReadOnlyList<double?>>();
        for (int m = 0; m < matrix.Models.Count; m++)
        {
            rows.Add(Enumerable.Range(0, matrix.Sites.Count).Select(s => double.IsFinite(values[m, s]) ? values[m, s] : (double?)null).ToArray());
        }

        return new CrossSiteTable(metric, matrix.Models, matrix.Sites, rows);
    }

    /// <summary>Tables of several metrics as one stored JSON array.</summary>
    public static string ToJson(IEnumerable<CrossSiteTable> tables) => JsonSerializer.Serialize(tables.ToArray(), Json);

    public static IReadOnlyList<CrossSiteTable> Parse(string json) =>
        JsonSerializer.Deserialize<CrossSiteTable[]>(json, Json) ?? throw new InvalidDataException("The stored cross-site evaluation is empty.");
}
