namespace FederatedSharp.Analytics;

/// <summary>
/// One feature's statistics at one site or over all of them. A null value was withheld by a site's policy (or, for a
/// global value, by at least one site: see <see cref="IncompleteSites"/>); with noise, counts are noisy real numbers.
/// </summary>
public sealed class FeatureStatistics
{
    /// <summary>The feature.</summary>
    public required string Name { get; init; }

    /// <summary>The number of present values.</summary>
    public double? Count { get; init; }

    /// <summary>The number of missing values.</summary>
    public double? Missing { get; init; }

    /// <summary>The sum of the values.</summary>
    public double? Sum { get; init; }

    /// <summary>The mean.</summary>
    public double? Mean { get; init; }

    /// <summary>The sample variance (divided by count - 1).</summary>
    public double? Variance { get; init; }

    /// <summary>The sample standard deviation.</summary>
    public double? StandardDeviation => Variance is double v ? Math.Sqrt(v) : null;

    /// <summary>The smallest value.</summary>
    public double? Min { get; init; }

    /// <summary>The largest value.</summary>
    public double? Max { get; init; }

    /// <summary>The histogram, when one was asked for.</summary>
    public Histogram? Histogram { get; init; }

    /// <summary>The quantiles estimated from <see cref="Histogram"/>, each with its error bound; empty when it has withheld cells.</summary>
    public IReadOnlyList<QuantileEstimate> Quantiles { get; init; } = Array.Empty<QuantileEstimate>();

    /// <summary>For a global value: the sites whose contribution was (partly) withheld, so the global value leaves them out.</summary>
    public IReadOnlyList<string> IncompleteSites { get; init; } = Array.Empty<string>();
}

/// <summary>A histogram over agreed edges; a null count was withheld.</summary>
/// <param name="Edges">The bin edges: bin j is [Edges[j], Edges[j+1]), the last one closed.</param>
/// <param name="Counts">The count per bin.</param>
/// <param name="Below">Values below the first edge.</param>
/// <param name="Above">Values above the last edge.</param>
public sealed record Histogram(IReadOnlyList<double> Edges, IReadOnlyList<double?> Counts, double? Below, double? Above)
{
    /// <summary>Whether every cell was released.</summary>
    public bool IsComplete => Below is not null && Above is not null && Counts.All(c => c is not null);
}

/// <summary>
/// A quantile estimated from a histogram by linear interpolation inside the bin where the cumulative count reaches
/// q * n. The sample quantile (the smallest value whose empirical CDF reaches q) lies in that bin, so the estimate is
/// within <see cref="ErrorBound"/>, the bin's width, of it.
/// </summary>
/// <param name="Probability">q.</param>
/// <param name="Value">The estimate.</param>
/// <param name="ErrorBound">The largest possible distance to the sample quantile.</param>
public sealed record QuantileEstimate(double Probability, double Value, double ErrorBound);

/// <summary>A covariance and correlation matrix over the rows where every feature is present.</summary>
/// <param name="Features">The features, in matrix order.</param>
/// <param name="Count">The number of complete rows.</param>
/// <param name="Means">The features' means over those rows.</param>
/// <param name="Covariance">The sample covariance (divided by count - 1).</param>
/// <param name="Correlation">Pearson's correlation.</param>
public sealed record CovarianceMatrix(IReadOnlyList<string> Features, double Count, IReadOnlyList<double> Means, double[,] Covariance, double[,] Correlation);

/// <summary>One site's (or the global) statistics.</summary>
/// <param name="Features">Per feature, by name.</param>
/// <param name="Covariance">The covariance matrix, when asked for and released.</param>
public sealed record SiteStatistics(IReadOnlyDictionary<string, FeatureStatistics> Features, CovarianceMatrix? Covariance);
