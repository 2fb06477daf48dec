using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Diagnosers;
using BenchmarkDotNet.Jobs;

/// <summary>Shared configuration: memory diagnoser, a short but repeated job (the machine is shared and noisy, so compare ratios).</summary>
public sealed class BenchmarkConfig : ManualConfig
{
    public BenchmarkConfig()
    {
        Add(DefaultConfig.Instance);
        AddDiagnoser(MemoryDiagnoser.Default);
        AddJob(Job.Default.WithWarmupCount(3).WithIterationCount(10));
        SummaryStyle = BenchmarkDotNet.Reports.SummaryStyle.Default.WithRatioStyle(BenchmarkDotNet.Columns.RatioStyle.Trend);
        AddLogicalGroupRules(BenchmarkLogicalGroupRule.ByParams);
    }
}
