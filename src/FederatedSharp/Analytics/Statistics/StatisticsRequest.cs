namespace FederatedSharp.Analytics;

/// <summary>What <see cref="FederatedStatistics.ComputeAsync"/> asks of every site.</summary>
public sealed class StatisticsRequest
{
    /// <summary>The features (column names) to summarise.</summary>
    public required IReadOnlyList<string> Features { get; init; }

    /// <summary>
    /// Bins per feature for histograms agreed from a first pass's global minimum and maximum (default 10); 0 for no
    /// histograms (and no quantiles) unless <see cref="HistogramEdges"/> gives them.
    /// </summary>
    public int HistogramBins { get; init; } = 10;

    /// <summary>Explicit bin edges per feature (strictly increasing), used instead of a min/max pass for that feature.</summary>
    public IReadOnlyDictionary<string, double[]> HistogramEdges { get; init; } = new Dictionary<string, double[]>();

    /// <summary>The quantiles to estimate from the merged histograms (default quartiles).</summary>
    public IReadOnlyList<double> Quantiles { get; init; } = new[] { 0.25, 0.5, 0.75 };

    /// <summary>Whether to compute the covariance and correlation matrix of <see cref="Features"/> over complete rows (default false).</summary>
    public bool Covariance { get; init; }

    internal void Validate()
    {
        if (Features is null || Features.Count == 0 || Features.Any(string.IsNullOrEmpty))
        {
            throw new ArgumentException("A statistics request needs at least one non-empty feature name.", nameof(Features));
        }

        ArgumentOutOfRangeException.ThrowIfNegative(HistogramBins, nameof(HistogramBins));
        ArgumentNullException.ThrowIfNull(HistogramEdges, nameof(HistogramEdges));
        ArgumentNullException.ThrowIfNull(Quantiles, nameof(Quantiles));
        if (Quantiles.Any(q => !(q >= 0 && q <= 1)))
        {
            throw new ArgumentOutOfRangeException(nameof(Quantiles), "Quantiles must lie in [0, 1].");
        }

        foreach ((string name, double[] edges) in HistogramEdges)
        {
            if (edges is null || edges.Length < 2 || edges.Zip(edges.Skip(1)).Any(p => !(p.Second > p.First)) || edges.Any(e => !double.IsFinite(e)))
            {
                throw new ArgumentException($"The histogram edges of '{name}' must be at least two finite, strictly increasing numbers.", nameof(HistogramEdges));
            }
        }
    }
}
