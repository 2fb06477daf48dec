using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;

/// <summary>"GB/s": the N x P x 4 input bytes (parameters <c>Clients</c> and <c>Parameters</c>) divided by the mean time.</summary>
public sealed class ReadBandwidthColumn : IColumn
{
    public string Id => nameof(ReadBandwidthColumn);

    public string ColumnName => "GB/s read";

    public bool AlwaysShow => true;

    public ColumnCategory Category => ColumnCategory.Custom;

    public int PriorityInCategory => 1;

    public bool IsNumeric => true;

    public UnitType UnitType => UnitType.Dimensionless;

    public string Legend => "Input bytes (Clients x Parameters x 4) / mean time";

    public bool IsAvailable(Summary summary) => true;

    public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase) => GetValue(summary, benchmarkCase, SummaryStyle.Default);

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style)
    {
        double? mean = summary[benchmarkCase]?.ResultStatistics?.Mean;
        object? clients = benchmarkCase.Parameters["Clients"];
        object? parameters = benchmarkCase.Parameters["Parameters"];
        if (mean is not > 0 || clients is null || parameters is null)
        {
            return "?";
        }

        double bytes = Convert.ToDouble(clients, System.Globalization.CultureInfo.InvariantCulture) * Convert.ToDouble(parameters, System.Globalization.CultureInfo.InvariantCulture) * sizeof(float);
        return $"{bytes / mean.Value:F1}"; // bytes per nanosecond = GB/s
    }
}
