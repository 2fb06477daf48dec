using System.Globalization;
using FederatedSharp.Clients;

namespace FederatedSharp.Plans;

/// <summary>
/// The z-score transform of the standardised columns: <c>(x - mean) / (std + 1e-9)</c> with the sample standard
/// deviation, as FLamby scales its tabular sets. Under federated standardisation the server sends it to the sites in
/// the round configuration.
/// </summary>
public sealed class FeatureScaling
{
    private const string Prefix = "plan.standardize.";

    /// <summary>Creates the transform.</summary>
    /// <param name="columns">The columns.</param>
    /// <param name="means">Their means.</param>
    /// <param name="standardDeviations">Their sample standard deviations.</param>
    /// <exception cref="ArgumentException">The lengths differ or a value is not finite.</exception>
    public FeatureScaling(IReadOnlyList<string> columns, IReadOnlyList<double> means, IReadOnlyList<double> standardDeviations)
    {
        ArgumentNullException.ThrowIfNull(columns);
        ArgumentNullException.ThrowIfNull(means);
        ArgumentNullException.ThrowIfNull(standardDeviations);
        if (columns.Count != means.Count || columns.Count != standardDeviations.Count)
        {
            throw new ArgumentException("Every standardised column needs one mean and one standard deviation.");
        }

        if (means.Concat(standardDeviations).Any(v => !double.IsFinite(v)) || standardDeviations.Any(s => s < 0))
        {
            throw new ArgumentException("Means and standard deviations must be finite, and standard deviations >= 0.");
        }

        Columns = [.. columns];
        Means = [.. means];
        StandardDeviations = [.. standardDeviations];
    }

    /// <summary>The columns.</summary>
    public IReadOnlyList<string> Columns { get; }

    /// <summary>Their means.</summary>
    public IReadOnlyList<double> Means { get; }

    /// <summary>Their sample standard deviations.</summary>
    public IReadOnlyList<double> StandardDeviations { get; }

    /// <summary>The transform of rows' columns: their mean and sample standard deviation.</summary>
    internal static FeatureScaling Fit(IReadOnlyList<string> columns, Func<string, double[]> values)
    {
        var means = new double[columns.Count];
        var stds = new double[columns.Count];
        for (int c = 0; c < columns.Count; c++)
        {
            double[] v = values(columns[c]);
            means[c] = v.Average();
            double ss = v.Sum(x => (x - means[c]) * (x - means[c]));
            stds[c] = v.Length > 1 ? Math.Sqrt(ss / (v.Length - 1)) : 0;
        }

        return new FeatureScaling(columns, means, stds);
    }

    internal double Apply(int column, double value) => (value - Means[column]) / (StandardDeviations[column] + 1e-9);

    /// <summary>Writes the transform into a round configuration.</summary>
    /// <param name="config">The configuration.</param>
    public void WriteTo(ConfigRecord config)
    {
        ArgumentNullException.ThrowIfNull(config);
        for (int c = 0; c < Columns.Count; c++)
        {
            config[Prefix + Columns[c] + ".mean"] = Means[c];
            config[Prefix + Columns[c] + ".std"] = StandardDeviations[c];
        }
    }

    /// <summary>Reads the transform of <paramref name="columns"/> from a round configuration.</summary>
    /// <param name="columns">The columns.</param>
    /// <param name="config">The configuration.</param>
    /// <returns>The transform.</returns>
    /// <exception cref="PlanDataException">A column's statistics are missing.</exception>
    public static FeatureScaling ReadFrom(IReadOnlyList<string> columns, ConfigRecord config)
    {
        ArgumentNullException.ThrowIfNull(columns);
        ArgumentNullException.ThrowIfNull(config);
        var means = new double[columns.Count];
        var stds = new double[columns.Count];
        for (int c = 0; c < columns.Count; c++)
        {
            if (!config.TryGetValue(Prefix + columns[c] + ".mean", out ConfigValue mean) || !config.TryGetValue(Prefix + columns[c] + ".std", out ConfigValue std))
            {
                throw new PlanDataException($"The plan standardises with federated statistics, but the server sent none for column '{columns[c]}'.");
            }

            means[c] = mean.AsDouble();
            stds[c] = std.AsDouble();
        }

        return new FeatureScaling(columns, means, stds);
    }

    /// <summary>Whether two transforms are the same.</summary>
    internal bool SameAs(FeatureScaling other) =>
        Columns.SequenceEqual(other.Columns) && Means.SequenceEqual(other.Means) && StandardDeviations.SequenceEqual(other.StandardDeviations);

    /// <summary>A readable line per column.</summary>
    /// <returns>The text.</returns>
    public override string ToString() => string.Join(", ", Columns.Select((c, i) =>
        string.Create(CultureInfo.InvariantCulture, $"{c}: mean {Means[i]:G4}, sd {StandardDeviations[i]:G4}")));
}
