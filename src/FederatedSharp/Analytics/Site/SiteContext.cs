namespace FederatedSharp.Analytics;

/// <summary>What a query's responder needs of its site: the table, the policy, the budget, the released resolutions and the disclosure log.</summary>
internal sealed class SiteContext
{
    private readonly Action<DisclosureAction, string> _record;

    public SiteContext(TabularDataset data, DisclosurePolicy policy, PrivacyBudget budget, ReleasedResolutions resolutions, Random random, Action<DisclosureAction, string> record)
    {
        Data = data;
        Policy = policy;
        Budget = budget;
        Resolutions = resolutions;
        Random = random;
        _record = record;
    }

    public TabularDataset Data { get; }

    public DisclosurePolicy Policy { get; }

    public PrivacyBudget Budget { get; }

    public ReleasedResolutions Resolutions { get; }

    public Random Random { get; }

    /// <summary>The column's non-missing values.</summary>
    public double[] Values(string column, out long missing)
    {
        ReadOnlySpan<double> values = Data.Column(column);
        var present = new List<double>(values.Length);
        missing = 0;
        foreach (double v in values)
        {
            if (double.IsNaN(v))
            {
                missing++;
            }
            else
            {
                present.Add(v);
            }
        }

        return present.ToArray();
    }

    /// <summary>Logs a suppression and returns null, the withheld value's place in the reply.</summary>
    public double? Withhold(string what)
    {
        _record(DisclosureAction.Suppressed, "withheld " + what);
        return null;
    }

    /// <summary>Logs the refusal of part of a query.</summary>
    public void Refuse(string what) => _record(DisclosureAction.Refused, "refused " + what);
}
