using BenchmarkDotNet.Attributes;

/// <summary>
/// The five read-bound passes of <see cref="ReadBounds"/> as benchmarks, for every benchmark class that reports
/// "% of read bound" (<see cref="BoundFractionColumn"/> takes the fastest of them in the same run).
/// </summary>
public abstract class ReadBoundBenchmarks
{
    /// <summary>The N inputs the class aggregates.</summary>
    protected abstract IReadOnlyList<ReadOnlyMemory<float>> Inputs { get; }

    /// <summary>Values per input.</summary>
    protected abstract int Length { get; }

    [Benchmark(Description = "read bound A: each input split over the cores")]
    public float ReadBoundA() => ReadBounds.PerInputSplit(Inputs);

    [Benchmark(Description = "read bound B: blocks of all inputs")]
    public float ReadBoundB() => ReadBounds.Blocked(Inputs, Length);

    [Benchmark(Description = "read bound C: whole inputs shared among the cores")]
    public float ReadBoundC() => ReadBounds.InputsAcrossCores(Inputs);

    [Benchmark(Description = "read bound D: a coordinate range per core")]
    public float ReadBoundD() => ReadBounds.RangePerCore(Inputs, Length);

    [Benchmark(Description = "read bound E: blocks, four inputs interleaved")]
    public float ReadBoundE() => ReadBounds.Interleaved(Inputs, Length);
}
