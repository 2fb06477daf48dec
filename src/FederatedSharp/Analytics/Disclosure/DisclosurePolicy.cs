namespace FederatedSharp.Analytics;

/// <summary>
/// A site's rules for what its analytics may release, enforced by the site (<see cref="AnalyticsSite"/>) and never
/// taken from the server: a minimum count below which a statistic or a histogram cell is suppressed, limits on
/// histogram and survival-table resolution, optional noise with a privacy budget. See docs/analytics.md for what the
/// server learns from each query under these rules.
/// </summary>
public sealed class DisclosurePolicy
{
    /// <summary>
    /// k: a statistic over fewer than k records, and a histogram cell or survival row with between 1 and k - 1 records,
    /// is suppressed (default 10). 1 disables suppression.
    /// </summary>
    public int MinimumCount { get; set; } = 10;

    /// <summary>The most histogram bins one request may ask for (default 100).</summary>
    public int MaxHistogramBins { get; set; } = 100;

    /// <summary>
    /// Whether the exact minimum and maximum of a feature may be released (default true). Each is one patient's value;
    /// set false to withhold them, and give the server explicit histogram edges instead.
    /// </summary>
    public bool ReleaseMinMax { get; set; } = true;

    /// <summary>
    /// Whether a survival query may use exact event times (default false): each released time is a date of death or
    /// of last contact. When false, survival queries must bin time.
    /// </summary>
    public bool AllowExactEventTimes { get; set; }

    /// <summary>The narrowest time bin a survival query may use, in the time column's unit (default 0: any width).</summary>
    public double MinSurvivalBinWidth { get; set; }

    /// <summary>Noise added to every released number (default none).</summary>
    public NoiseMechanism Noise { get; set; } = NoiseMechanism.None;

    /// <summary>Epsilon spent by one query when <see cref="Noise"/> is on (default 1), shared equally by the query's statistics.</summary>
    public double EpsilonPerQuery { get; set; } = 1;

    /// <summary>Delta spent by one query with Gaussian noise (default 1e-6).</summary>
    public double DeltaPerQuery { get; set; } = 1e-6;

    /// <summary>The site's total epsilon over all queries (default 10); a query that would exceed it is refused.</summary>
    public double EpsilonBudget { get; set; } = 10;

    /// <summary>The site's total delta over all queries (default 1e-5).</summary>
    public double DeltaBudget { get; set; } = 1e-5;

    /// <summary>
    /// Clipping bounds per column, required for every column a noisy query sums: values are clamped into them, which
    /// fixes the sum's sensitivity. Without noise they are ignored.
    /// </summary>
    public Dictionary<string, ValueBounds> Bounds { get; private set; } = new(StringComparer.Ordinal);

    /// <summary>
    /// A seed for the noise, for reproducible experiments only; null (the default) draws noise from the operating
    /// system's cryptographic generator, so the server cannot predict it.
    /// </summary>
    public ulong? NoiseSeed { get; set; }

    /// <summary>Checks the policy.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A setting is out of range.</exception>
    public void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(MinimumCount, 1, nameof(MinimumCount));
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxHistogramBins, 1, nameof(MaxHistogramBins));
        if (!(MinSurvivalBinWidth >= 0) || !double.IsFinite(MinSurvivalBinWidth))
        {
            throw new ArgumentOutOfRangeException(nameof(MinSurvivalBinWidth), MinSurvivalBinWidth, "The minimum bin width must be a finite number >= 0.");
        }

        if (Noise != NoiseMechanism.None)
        {
            Positive(EpsilonPerQuery, nameof(EpsilonPerQuery));
            Positive(EpsilonBudget, nameof(EpsilonBudget));
            if (Noise == NoiseMechanism.Gaussian)
            {
                Probability(DeltaPerQuery, nameof(DeltaPerQuery));
                Probability(DeltaBudget, nameof(DeltaBudget));
            }
        }

        foreach ((string column, ValueBounds bounds) in Bounds)
        {
            if (!double.IsFinite(bounds.Lower) || !double.IsFinite(bounds.Upper) || bounds.Lower > bounds.Upper)
            {
                throw new ArgumentOutOfRangeException(nameof(Bounds), $"The bounds of '{column}' must be finite with Lower <= Upper.");
            }
        }
    }

    internal DisclosurePolicy Copy()
    {
        var copy = (DisclosurePolicy)MemberwiseClone();
        copy.Bounds = new Dictionary<string, ValueBounds>(Bounds, StringComparer.Ordinal);
        return copy;
    }

    private static void Positive(double value, string name)
    {
        if (!(value > 0) || !double.IsFinite(value))
        {
            throw new ArgumentOutOfRangeException(name, value, $"{name} must be a finite number > 0.");
        }
    }

    private static void Probability(double value, string name)
    {
        if (!(value > 0 && value < 1))
        {
            throw new ArgumentOutOfRangeException(name, value, $"{name} must lie in (0, 1).");
        }
    }
}
