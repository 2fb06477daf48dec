using BenchmarkDotNet.Attributes;
using FederatedSharp.Aggregation;
using FederatedSharp.Clients;
using FederatedSharp.Parameters;

/// <summary>
/// Order-statistic strategies (they buffer every update): coordinate-wise median and trimmed mean are
/// O(P N log N); Krum computes N(N-1)/2 distances with TensorPrimitives, O(N^2 P); Bulyan repeats Krum's selection on
/// the same distances then sorts per coordinate. Throughput = N x P x 4 bytes / time.
/// </summary>
public class RobustBenchmarks
{
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
    }

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
}
