using System.Globalization;
using System.Text.Json;
using FederatedSharp.Plans.Json;

namespace FederatedSharp.Plans;

/// <summary>Reads a plan's <c>data</c> section.</summary>
internal static class DataSpecReader
{
    private static readonly Dictionary<string, LabelTask> Tasks = new(StringComparer.Ordinal)
    {
        ["binary"] = LabelTask.Binary,
        ["multiclass"] = LabelTask.Multiclass,
        ["regression"] = LabelTask.Regression,
        ["survival"] = LabelTask.Survival,
    };

    private static readonly Dictionary<string, Standardization> Methods = new(StringComparer.Ordinal)
    {
        ["none"] = Standardization.None,
        ["site"] = Standardization.Site,
        ["federated"] = Standardization.Federated,
    };

    public static DataSpec? Read(PlanObject data)
    {
        IReadOnlyList<string>? features = ReadFeatures(data);
        IReadOnlyList<int>? shape = data.Integers("featureShape", min: 1, nonEmpty: true);
        LabelSpec? label = data.Object("label", required: true) is { } l ? ReadLabel(l) : null;
        (string? splitColumn, double testFraction) = data.Object("split") is { } s ? ReadSplit(s) : (null, 0.2);
        string missing = data.String("missingValues", allowed: ["drop_rows", "error"]) ?? "drop_rows";
        (Standardization method, IReadOnlyList<string>? columns) = data.Object("standardize") is { } z ? ReadStandardize(z) : (Standardization.None, null);
        data.RejectUnknown();
        if (features is null || label is null)
        {
            return null;
        }

        if (shape is not null && shape.Aggregate(1L, (a, b) => a * b) != features.Count)
        {
            data.Error("featureShape", $"{LayerShape(shape)} holds {shape.Aggregate(1L, (a, b) => a * b)} values but the plan reads {features.Count} features");
            return null;
        }

        var spec = new DataSpec
        {
            Features = features,
            FeatureShape = shape ?? [features.Count],
            Label = label,
            SplitColumn = splitColumn,
            TestFraction = testFraction,
            DropMissingRows = missing == "drop_rows",
            Standardize = method,
            StandardizeColumns = method == Standardization.None ? [] : columns ?? features,
        };
        return CheckColumns(data, spec) ? spec : null;
    }

    private static IReadOnlyList<string>? ReadFeatures(PlanObject data)
    {
        if (data.Raw("features") is { ValueKind: JsonValueKind.Object } pattern)
        {
            if (PlanObject.From(pattern, data.Child("features"), data.Errors) is not { } p)
            {
                return null;
            }

            string? prefix = p.String("prefix", required: true);
            int? count = p.Integer("count", min: 1, required: true);
            int start = p.Integer("start", min: 0) ?? 0;
            p.RejectUnknown();
            return prefix is null || count is null
                ? null
                : Enumerable.Range(start, count.Value).Select(i => prefix + i.ToString(CultureInfo.InvariantCulture)).ToArray();
        }

        IReadOnlyList<string>? features = data.Strings("features", required: true, nonEmpty: true);
        if (features?.GroupBy(f => f, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1)?.Key is { } duplicate)
        {
            data.Error("features", $"the column '{duplicate}' is listed twice");
            return null;
        }

        return features;
    }

    private static LabelSpec? ReadLabel(PlanObject label)
    {
        string? task = label.String("task", required: true, allowed: Tasks.Keys);
        LabelSpec? spec = null;
        if (task == "survival")
        {
            string? time = label.String("time", required: true);
            string? happened = label.String("event", required: true);
            spec = time is null || happened is null ? null : new LabelSpec { Task = LabelTask.Survival, TimeColumn = time, EventColumn = happened };
        }
        else if (task is not null)
        {
            string? column = label.String("column", required: true);
            int? classes = task == "multiclass" ? label.Integer("classes", min: 2, required: true) : null;
            spec = column is null || (task == "multiclass" && classes is null) ? null : new LabelSpec { Task = Tasks[task], Column = column, Classes = classes };
        }

        label.RejectUnknown();
        return spec;
    }

    private static (string? Column, double TestFraction) ReadSplit(PlanObject split)
    {
        string? column = split.String("column");
        double? fraction = split.Number("testFraction", min: 0, max: 1, maxExclusive: true);
        if (column is not null && fraction is not null)
        {
            split.Error("testFraction", "give either a split column or a test fraction, not both");
        }

        split.RejectUnknown();
        return (column, fraction ?? 0.2);
    }

    private static (Standardization Method, IReadOnlyList<string>? Columns) ReadStandardize(PlanObject z)
    {
        string method = z.String("method", required: true, allowed: Methods.Keys) ?? "none";
        IReadOnlyList<string>? columns = z.Strings("columns", nonEmpty: true);
        z.RejectUnknown();
        return (Methods[method], columns);
    }

    private static bool CheckColumns(PlanObject data, DataSpec spec)
    {
        bool ok = true;
        foreach (string column in spec.Label.Columns.Append(spec.SplitColumn).OfType<string>())
        {
            if (spec.Features.Contains(column))
            {
                data.Error("label", $"the column '{column}' is both a feature and {(column == spec.SplitColumn ? "the split" : "the label")}");
                ok = false;
            }
        }

        foreach (string column in spec.StandardizeColumns.Where(c => !spec.Features.Contains(c)))
        {
            data.Error("standardize", $"the column '{column}' is standardised but is not a feature");
            ok = false;
        }

        return ok;
    }

    private static string LayerShape(IReadOnlyList<int> shape) => "[" + string.Join(", ", shape) + "]";
}
