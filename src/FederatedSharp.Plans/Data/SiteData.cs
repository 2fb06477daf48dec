using FederatedSharp.Analytics;
using FederatedSharp.TorchSharp.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace FederatedSharp.Plans;

/// <summary>
/// A site's table prepared for a plan: checked against the plan's schema, rows with missing values dropped (or
/// refused), split into training and test rows. Checking happens here, before any training, so a mismatch is
/// reported by the site with what is wrong.
/// </summary>
public sealed class SiteData
{
    private SiteData(TabularDataset train, TabularDataset? test)
    {
        Train = train;
        Test = test;
    }

    /// <summary>The training rows (only the columns the plan reads).</summary>
    public TabularDataset Train { get; }

    /// <summary>The test rows; null when the plan holds out none.</summary>
    public TabularDataset? Test { get; }

    /// <summary>Checks and splits a site's table for a plan.</summary>
    /// <param name="plan">The plan.</param>
    /// <param name="table">The site's table.</param>
    /// <param name="site">The site's name (it seeds a random split).</param>
    /// <returns>The prepared data.</returns>
    /// <exception cref="PlanDataException">A column is missing, a value is out of range or missing where the plan refuses missing values, or too few rows remain.</exception>
    public static SiteData Prepare(TrainingPlan plan, TabularDataset table, string site)
    {
        ArgumentNullException.ThrowIfNull(plan);
        ArgumentNullException.ThrowIfNull(table);
        ArgumentException.ThrowIfNullOrEmpty(site);
        DataSpec spec = plan.Data;
        string[] missing = spec.Columns.Where(c => !table.HasColumn(c)).ToArray();
        if (missing.Length > 0)
        {
            throw new PlanDataException($"The data set lacks the column{(missing.Length > 1 ? "s" : "")} {string.Join(", ", missing.Select(m => "'" + m + "'"))} that plan {plan} reads; it has {string.Join(", ", table.ColumnNames)}.");
        }

        int[] rows = CompleteRows(spec, table);
        CheckValues(spec, table, rows);
        bool[] isTest = TestRows(plan, table, rows, site);
        int[] train = rows.Where((_, i) => !isTest[i]).ToArray();
        int[] test = rows.Where((_, i) => isTest[i]).ToArray();
        if (train.Length == 0)
        {
            throw new PlanDataException($"No training rows remain of the data set's {table.RowCount} (after dropping incomplete rows and holding out the test rows).");
        }

        return new SiteData(Select(spec, table, train), test.Length > 0 ? Select(spec, table, test) : null);
    }

    /// <summary>The rows as tensors: features of the plan's sample shape (scaled when given), targets as its loss expects.</summary>
    internal static TorchDataSet ToTorch(TrainingPlan plan, TabularDataset rows, FeatureScaling? scaling)
    {
        DataSpec spec = plan.Data;
        int n = rows.RowCount;
        int f = spec.Features.Count;
        var features = new float[n * f];
        for (int c = 0; c < f; c++)
        {
            ReadOnlySpan<double> column = rows.Column(spec.Features[c]);
            int scaled = scaling is null ? -1 : IndexOf(scaling.Columns, spec.Features[c]);
            for (int r = 0; r < n; r++)
            {
                features[(r * f) + c] = (float)(scaled >= 0 ? scaling!.Apply(scaled, column[r]) : column[r]);
            }
        }

        long[] shape = [n, .. spec.FeatureShape.Select(s => (long)s)];
        Tensor x = torch.tensor(features, shape, ScalarType.Float32);
        Tensor y = spec.Label.Task switch
        {
            LabelTask.Multiclass => torch.tensor(rows.Column(spec.Label.Column!).ToArray().Select(v => (long)v).ToArray(), [n], ScalarType.Int64),
            LabelTask.Survival => torch.tensor(Interleave(rows.Column(spec.Label.TimeColumn!), rows.Column(spec.Label.EventColumn!)), [n, 2], ScalarType.Float32),
            _ => torch.tensor(rows.Column(spec.Label.Column!).ToArray().Select(v => (float)v).ToArray(), [n, 1], ScalarType.Float32),
        };
        return new TorchDataSet(x, y);
    }

    private static int[] CompleteRows(DataSpec spec, TabularDataset table)
    {
        var complete = new List<int>(table.RowCount);
        for (int r = 0; r < table.RowCount; r++)
        {
            string? gap = spec.Columns.FirstOrDefault(c => double.IsNaN(table.Column(c)[r]));
            if (gap is null)
            {
                complete.Add(r);
            }
            else if (!spec.DropMissingRows)
            {
                throw new PlanDataException($"Row {r + 1} has no value in column '{gap}', and the plan's missingValues is 'error'.");
            }
        }

        return [.. complete];
    }

    private static void CheckValues(DataSpec spec, TabularDataset table, int[] rows)
    {
        LabelSpec label = spec.Label;
        (string Column, Func<double, bool> Ok, string Rule)[] rules = label.Task switch
        {
            LabelTask.Binary => [(label.Column!, v => v is 0 or 1, "0 or 1")],
            LabelTask.Multiclass => [(label.Column!, v => v >= 0 && v < label.Classes && v == Math.Floor(v), $"a class index from 0 to {label.Classes - 1}")],
            LabelTask.Survival => [(label.TimeColumn!, v => v >= 0 && double.IsFinite(v), "a time >= 0"), (label.EventColumn!, v => v is 0 or 1, "0 (censored) or 1 (event)")],
            _ => [(label.Column!, double.IsFinite, "a finite number")],
        };
        if (spec.SplitColumn is { } split)
        {
            rules = [.. rules, (split, v => v is 0 or 1, "0 (training) or 1 (test)")];
        }

        rules = [.. rules, .. spec.Features.Select(c => (c, (Func<double, bool>)double.IsFinite, "a finite number"))];
        foreach ((string column, Func<double, bool> ok, string rule) in rules)
        {
            ReadOnlySpan<double> values = table.Column(column);
            foreach (int r in rows)
            {
                if (!ok(values[r]))
                {
                    throw new PlanDataException($"Row {r + 1}, column '{column}': {values[r]} is not {rule}.");
                }
            }
        }
    }

    private static bool[] TestRows(TrainingPlan plan, TabularDataset table, int[] rows, string site)
    {
        if (plan.Data.SplitColumn is { } split)
        {
            ReadOnlySpan<double> values = table.Column(split);
            bool[] marked = new bool[rows.Length];
            for (int i = 0; i < rows.Length; i++)
            {
                marked[i] = values[rows[i]] == 1;
            }

            return marked;
        }

        int[] order = Enumerable.Range(0, rows.Length).ToArray();
        new DeterministicRandom(DeterministicRandom.Mix(plan.Seed, DeterministicRandom.HashString(site), 0x5917)).ShuffleInPlace(order.AsSpan());
        int held = (int)Math.Round(rows.Length * plan.Data.TestFraction, MidpointRounding.AwayFromZero);
        bool[] test = new bool[rows.Length];
        foreach (int i in order.Take(held))
        {
            test[i] = true;
        }

        return test;
    }

    private static TabularDataset Select(DataSpec spec, TabularDataset table, int[] rows) =>
        new(spec.Columns.Distinct().ToDictionary(c => c, c => Pick(table.Column(c), rows), StringComparer.Ordinal));

    private static double[] Pick(ReadOnlySpan<double> values, int[] rows)
    {
        double[] picked = new double[rows.Length];
        for (int i = 0; i < rows.Length; i++)
        {
            picked[i] = values[rows[i]];
        }

        return picked;
    }

    private static float[] Interleave(ReadOnlySpan<double> a, ReadOnlySpan<double> b)
    {
        float[] result = new float[a.Length * 2];
        for (int i = 0; i < a.Length; i++)
        {
            result[2 * i] = (float)a[i];
            result[(2 * i) + 1] = (float)b[i];
        }

        return result;
    }

    private static int IndexOf(IReadOnlyList<string> values, string value)
    {
        for (int i = 0; i < values.Count; i++)
        {
            if (values[i] == value)
            {
                return i;
            }
        }

        return -1;
    }
}
