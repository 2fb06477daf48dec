namespace FederatedSharp.Analytics;

/// <summary>One step of a Kaplan–Meier curve.</summary>
/// <param name="Time">The time (an event time, or a bin's lower edge).</param>
/// <param name="AtRisk">Patients at risk just before it.</param>
/// <param name="Events">Events at it (in the bin).</param>
/// <param name="Censored">Censorings at it (in the bin).</param>
/// <param name="Survival">S(t), the probability of surviving past it.</param>
/// <param name="StandardError">Greenwood's standard error of S(t).</param>
public sealed record KaplanMeierPoint(double Time, double AtRisk, double Events, double Censored, double Survival, double StandardError);

/// <summary>A Kaplan–Meier survival curve, per site or pooled over sites, for one group.</summary>
public sealed class KaplanMeierCurve
{
    internal KaplanMeierCurve(string group, IReadOnlyList<KaplanMeierPoint> points, double count, IReadOnlyList<string> truncatedSites)
    {
        Group = group;
        Points = points;
        Count = count;
        TruncatedSites = truncatedSites;
    }

    /// <summary>The group's label ("all" without groups).</summary>
    public string Group { get; }

    /// <summary>The curve's steps, in time order.</summary>
    public IReadOnlyList<KaplanMeierPoint> Points { get; }

    /// <summary>The patients in the group.</summary>
    public double Count { get; }

    /// <summary>Sites whose tail was withheld (fewer than k at risk); they leave the risk set where their reply stops.</summary>
    public IReadOnlyList<string> TruncatedSites { get; }

    /// <summary>The median survival time: the first time S(t) falls to 0.5 or below; null when it never does.</summary>
    public double? Median => Points.FirstOrDefault(p => p.Survival <= 0.5)?.Time;

    /// <summary>S(t): the survival probability just after <paramref name="time"/> (1 before the first step).</summary>
    /// <param name="time">The time.</param>
    /// <returns>The probability.</returns>
    public double SurvivalAt(double time) => Points.LastOrDefault(p => p.Time <= time)?.Survival ?? 1;
}

/// <summary>The log-rank test of equal survival between groups (Mantel–Haenszel, chi-squared with groups - 1 degrees of freedom).</summary>
/// <param name="Groups">The groups' labels.</param>
/// <param name="Observed">Events observed per group.</param>
/// <param name="Expected">Events expected per group under equal survival.</param>
/// <param name="ChiSquared">The statistic.</param>
/// <param name="DegreesOfFreedom">Groups - 1.</param>
/// <param name="PValue">P(chi-squared &gt;= statistic).</param>
public sealed record LogRankResult(IReadOnlyList<string> Groups, IReadOnlyList<double> Observed, IReadOnlyList<double> Expected, double ChiSquared, int DegreesOfFreedom, double PValue);
