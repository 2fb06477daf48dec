namespace FederatedSharp.Analytics;

/// <summary>What <see cref="FederatedSurvival.AnalyseAsync"/> asks of every site.</summary>
public sealed class SurvivalRequest
{
    /// <summary>The column holding each patient's time to event or censoring.</summary>
    public required string TimeColumn { get; init; }

    /// <summary>The column holding the event indicator (non-zero: the event was observed; zero: censored).</summary>
    public required string EventColumn { get; init; }

    /// <summary>
    /// Time bins' lower edges, strictly increasing: bin j is [edges[j], edges[j+1]) and the last one is open-ended (times
    /// before the first edge count in bin 0). Null asks for exact event times, which a site releases only when its
    /// policy allows it (<see cref="DisclosurePolicy.AllowExactEventTimes"/>). Bins hide exact dates at the cost of a
    /// curve that steps at bin edges only; see docs/analytics.md.
    /// </summary>
    public double[]? TimeBins { get; init; }

    /// <summary>A column whose value puts each patient in a group (for curves per group and the log-rank test); null for one group.</summary>
    public string? GroupColumn { get; init; }

    /// <summary>The groups, by the value of <see cref="GroupColumn"/> and a label; patients with other values are left out.</summary>
    public IReadOnlyList<SurvivalGroup> Groups { get; init; } = Array.Empty<SurvivalGroup>();

    /// <summary>Builds equal-width bins from 0 to <paramref name="end"/>.</summary>
    /// <param name="width">The bins' width.</param>
    /// <param name="end">The last bin's lower edge is the largest multiple of width below it.</param>
    /// <returns>The lower edges.</returns>
    public static double[] EqualBins(double width, double end)
    {
        if (!(width > 0) || !(end > 0))
        {
            throw new ArgumentOutOfRangeException(nameof(width), "Width and end must be > 0.");
        }

        return Enumerable.Range(0, (int)Math.Ceiling(end / width)).Select(i => i * width).ToArray();
    }

    internal void Validate()
    {
        ArgumentException.ThrowIfNullOrEmpty(TimeColumn, nameof(TimeColumn));
        ArgumentException.ThrowIfNullOrEmpty(EventColumn, nameof(EventColumn));
        ArgumentNullException.ThrowIfNull(Groups, nameof(Groups));
        if ((GroupColumn is null) != (Groups.Count == 0))
        {
            throw new ArgumentException("Give GroupColumn together with Groups, or neither.", nameof(Groups));
        }

        if (Groups.Select(g => g.Value).Distinct().Count() != Groups.Count)
        {
            throw new ArgumentException("Two groups share a value.", nameof(Groups));
        }

        if (TimeBins is not null && (TimeBins.Length == 0 || TimeBins.Any(t => !double.IsFinite(t)) || TimeBins.Zip(TimeBins.Skip(1)).Any(p => !(p.Second > p.First))))
        {
            throw new ArgumentException("TimeBins must be finite and strictly increasing.", nameof(TimeBins));
        }
    }
}

/// <summary>A group of patients for survival analysis.</summary>
/// <param name="Value">The group column's value.</param>
/// <param name="Label">The group's name in reports and plots.</param>
public sealed record SurvivalGroup(double Value, string Label);
