using BenchmarkDotNet.Attributes;
using FederatedSharp.Aggregation;
using FederatedSharp.Clients;
using FederatedSharp.Parameters;

/// <summary>
/// Order-statistic strategies (they hold every update, without copies): median, trimmed mean and Bulyan's last step sort
/// every coordinate's N values across SIMD lanes with a pruned sorting network; Krum and Bulyan compare all N(N-1)/2
/// pairs in cache-sized blocks. Against the read bound (the fastest of five read-only passes over the same N x P floats)
/// in the same run.
/// </summary>
[BenchmarkDotNet.Attributes.Config(typeof(Config))]
public class RobustBenchmarks : ReadBoundBenchmarks
{
    private ReadOnlyMemory<float>[] _inputs = Array.Empty<ReadOnlyMemory<float>>();

    private ModelParameters _global = null!;
    private ClientUpdate[] _updates = Array.Empty<ClientUpdate>();

    [Params(11, 25)]
    public int Clients { get; set; }

    [Params(1_000_000)]
    public int Parameters { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var layout = TensorLayout.Create(new TensorSpec("w", Parameters));
        _global = ModelParameters.Create(layout);
        _updates = Enumerable.Range(0, Clients).Select(c =>
        {
            ModelParameters p = ModelParameters.CreateUninitialized(layout);
            Span<float> v = p.Values;
            for (int i = 0; i < v.Length; i++)
            {
                v[i] = ((((i * 31) + (c * 17)) % 101) - 50) * 0.01f;
            }

            return new ClientUpdate($"c{c}", p, 10, ConfigRecord.Empty);
        }).ToArray();
        _inputs = _updates.Select(u => (ReadOnlyMemory<float>)u.Parameters.Memory).ToArray();
    }

    protected override IReadOnlyList<ReadOnlyMemory<float>> Inputs => _inputs;

    protected override int Length => Parameters;

    [Benchmark(Description = "Krum's distance pass alone")]
    public double Distances() => FederatedSharp.Aggregation.Kernels.RobustKernels.PairwiseSquaredDistances(_inputs, Parameters)[0, 1];

    [Benchmark(Baseline = true, Description = "FedAvg (reference)")]
    public float FedAvg() => Run(new FedAvg());

    [Benchmark(Description = "FedMedian")]
    public float Median() => Run(new FedMedian());

    [Benchmark(Description = "FedTrimmedAvg (beta 0.2)")]
    public float TrimmedMean() => Run(new FedTrimmedAvg(0.2));

    [Benchmark(Description = "Krum (f = N/5)")]
    public float KrumF() => Run(new Krum(Clients / 5));

    [Benchmark(Description = "Bulyan (f = (N-3)/4)")]
    public float BulyanF() => Run(new Bulyan((Clients - 3) / 4));

    private float Run(IAggregator aggregator)
    {
        using IRoundAggregator round = aggregator.BeginRound(_global, new AggregationContext(1, Clients, Clients));
        round.AddRange(_updates);
        using ModelParameters result = round.Complete();
        return result.Values[0];
    }

    private sealed class Config : BenchmarkDotNet.Configs.ManualConfig
    {
        public Config()
        {
            AddColumn(new BoundFractionColumn(), new ReadBandwidthColumn());
        }
    }
}
