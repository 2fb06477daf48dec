namespace FederatedSharp.Analytics;

/// <summary>
/// The bin edges a site has released per column. Once a column's histogram (or survival table) has left the site, a
/// later request must use a subset of those edges: coarser bins are derivable from what was released, finer ones would
/// let the server difference two replies and recover a cell that suppression withheld.
/// </summary>
internal sealed class ReleasedResolutions
{
    private readonly Dictionary<string, double[]> _edges = new(StringComparer.Ordinal);

    public void Check(string key, double[] edges, string what)
    {
        if (_edges.TryGetValue(key, out double[]? released))
        {
            var known = new HashSet<double>(released);
            double[] finer = edges.Where(e => !known.Contains(e)).ToArray();
            if (finer.Length > 0)
            {
                throw new QueryRefusedException(
                    $"The {what} asks for bin edges ({string.Join(", ", finer.Take(5).Select(e => e.ToString("G6", System.Globalization.CultureInfo.InvariantCulture)))}{(finer.Length > 5 ? ", ..." : string.Empty)}) that an earlier reply did not use; " +
                    "a finer or shifted binning could be differenced against it to recover suppressed cells. Use the released edges or a subset of them.");
            }
        }
    }

    public void Record(string key, double[] edges) => _edges.TryAdd(key, (double[])edges.Clone());

    public static void Validate(double[]? edges, int maxBins, string what)
    {
        if (edges is null || edges.Length < 2)
        {
            throw new FormatException($"The {what} needs at least two bin edges.");
        }

        for (int i = 0; i < edges.Length; i++)
        {
            if (!double.IsFinite(edges[i]) || (i > 0 && !(edges[i] > edges[i - 1])))
            {
                throw new FormatException($"The {what}'s bin edges must be finite and strictly increasing (edge {i} is {edges[i]}).");
            }
        }

        if (edges.Length - 1 > maxBins)
        {
            throw new QueryRefusedException($"The {what} asks for {edges.Length - 1} bins; the site's policy allows at most {maxBins}.");
        }
    }
}
