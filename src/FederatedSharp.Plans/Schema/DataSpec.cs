namespace FederatedSharp.Plans;

/// <summary>The learning task a plan's label describes.</summary>
public enum LabelTask
{
    /// <summary>A 0/1 label (BCE).</summary>
    Binary,

    /// <summary>A class index in [0, classes) (cross-entropy).</summary>
    Multiclass,

    /// <summary>A real-valued target (MSE).</summary>
    Regression,

    /// <summary>A follow-up time and an event indicator (Cox partial likelihood).</summary>
    Survival,
}

/// <summary>How a site's table is standardised before training.</summary>
public enum Standardization
{
    /// <summary>Features are used as they are.</summary>
    None,

    /// <summary>z-scores with the site's own training rows' mean and standard deviation (FLamby's per-centre scaling).</summary>
    Site,

    /// <summary>
    /// z-scores with the federation's pooled mean and standard deviation, computed first by federated analytics under
    /// every site's disclosure policy, then sent to every site; each site applies the same transform.
    /// </summary>
    Federated,
}

/// <summary>The label of a plan's data.</summary>
public sealed class LabelSpec
{
    /// <summary>The task.</summary>
    public LabelTask Task { get; internal init; }

    /// <summary>The label column (every task but survival).</summary>
    public string? Column { get; internal init; }

    /// <summary>The number of classes (multiclass).</summary>
    public int? Classes { get; internal init; }

    /// <summary>The follow-up time column (survival).</summary>
    public string? TimeColumn { get; internal init; }

    /// <summary>The event column, 1 for an observed event and 0 for censoring (survival).</summary>
    public string? EventColumn { get; internal init; }

    /// <summary>Every column the label reads.</summary>
    public IReadOnlyList<string> Columns => Task == LabelTask.Survival ? [TimeColumn!, EventColumn!] : [Column!];
}

/// <summary>What a plan reads from a site's data set, and how it prepares it.</summary>
public sealed class DataSpec
{
    /// <summary>The feature columns, in the order the model receives them.</summary>
    public IReadOnlyList<string> Features { get; internal init; } = [];

    /// <summary>The shape of one sample (default: [number of features]); for images, for example [1, 8, 8].</summary>
    public IReadOnlyList<int> FeatureShape { get; internal init; } = [];

    /// <summary>The label.</summary>
    public LabelSpec Label { get; internal init; } = new();

    /// <summary>A column whose value 1 marks a test row and 0 a training row; null for a seeded random split.</summary>
    public string? SplitColumn { get; internal init; }

    /// <summary>The share of rows held out for testing when there is no split column (default 0.2).</summary>
    public double TestFraction { get; internal init; } = 0.2;

    /// <summary>Whether rows with a missing value in a column the plan reads are dropped (true, default) or fail the site (false).</summary>
    public bool DropMissingRows { get; internal init; } = true;

    /// <summary>How features are standardised (default none).</summary>
    public Standardization Standardize { get; internal init; }

    /// <summary>The columns standardised (default: every feature).</summary>
    public IReadOnlyList<string> StandardizeColumns { get; internal init; } = [];

    /// <summary>Every column the plan reads from a site's data set: features, label and split.</summary>
    public IReadOnlyList<string> Columns => [.. Features, .. Label.Columns, .. SplitColumn is null ? Array.Empty<string>() : [SplitColumn]];
}
