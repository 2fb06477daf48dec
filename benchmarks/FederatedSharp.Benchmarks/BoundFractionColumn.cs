using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;

/// <summary>
/// "% of read bound": the read-bandwidth bound's time divided by this benchmark's time. The bound is the faster of the
/// benchmarks whose names start with <see cref="BoundMethod"/> (parallel sums over the same N x P floats in two access
/// patterns, same run, same parameters). 100% means the aggregator runs at the speed of merely reading its inputs once.
/// </summary>
public sealed class BoundFractionColumn : IColumn
{
    public const string BoundMethod = "ReadBound";

    public string Id => nameof(BoundFractionColumn);

    public string ColumnName => "% of read bound";

    public bool AlwaysShow => true;

    public ColumnCategory Category => ColumnCategory.Custom;

    public int PriorityInCategory => 0;

    public bool IsNumeric => true;

    public UnitType UnitType => UnitType.Dimensionless;

    public string Legend => "Read-bandwidth bound time / this time (same parameters, same run)";

    public bool IsAvailable(Summary summary) => summary.BenchmarksCases.Any(b => b.Descriptor.WorkloadMethod.Name.StartsWith(BoundMethod, StringComparison.Ordinal));

    public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase) => GetValue(summary, benchmarkCase, SummaryStyle.Default);

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style)
    {
        double? boundMean = summary.BenchmarksCases
            .Where(b => b.Descriptor.WorkloadMethod.Name.StartsWith(BoundMethod, StringComparison.Ordinal) && b.Parameters.ValueInfo == benchmarkCase.Parameters.ValueInfo)
            .Select(b => summary[b]?.ResultStatistics?.Mean)
            .Where(m => m is > 0)
            .Min();
        double? mean = summary[benchmarkCase]?.ResultStatistics?.Mean;
        return boundMean is > 0 && mean is > 0 ? $"{100 * boundMean.Value / mean.Value:F0}%" : "?";
    }
}
