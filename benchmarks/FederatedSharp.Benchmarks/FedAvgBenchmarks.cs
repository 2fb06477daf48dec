using BenchmarkDotNet.Attributes;
using FederatedSharp.Aggregation;
using FederatedSharp.Clients;
using FederatedSharp.Parameters;
using FederatedSharp;

/// <summary>FedAvg of N client updates of P parameters: FederatedSharp's streaming SIMD aggregator vs a naive scalar loop.</summary>
public class FedAvgBenchmarks
{
    private ModelParameters[] _updates = Array.Empty<ModelParameters>();
    private long[] _weights = Array.Empty<long>();
    private ModelParameters _global = null!;
    private float[] _naiveOutput = Array.Empty<float>();
    private readonly FedAvg _fedAvg = new();

    [Params(10, 100)]
    public int Clients { get; set; }

    [Params(100_000, 1_000_000)]
    public int Parameters { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var layout = TensorLayout.Create(new TensorSpec("w", Parameters));
        var random = new DeterministicRandom(1);
        _global = ModelParameters.Create(layout);
        _updates = new ModelParameters[Clients];
        _weights = new long[Clients];
        for (int c = 0; c < Clients; c++)
        {
            _updates[c] = ModelParameters.Create(layout);
            Span<float> v = _updates[c].Values;
            for (int i = 0; i < v.Length; i++)
            {
                v[i] = (float)random.NextDouble() - 0.5f;
            }

            _weights[c] = 10 + random.Next(100);
        }

        _naiveOutput = new float[Parameters];
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        foreach (ModelParameters u in _updates)
        {
            u.Dispose();
        }

        _global.Dispose();
    }

    [Benchmark(Baseline = true, Description = "naive scalar loop")]
    public float Naive()
    {
        float[] acc = _naiveOutput;
        Array.Clear(acc);
        double total = 0;
        for (int c = 0; c < _updates.Length; c++)
        {
            Span<float> v = _updates[c].Values;
            float w = _weights[c];
            for (int i = 0; i < acc.Length; i++)
            {
                acc[i] += w * v[i];
            }

            total += _weights[c];
        }

        float scale = (float)(1 / total);
        for (int i = 0; i < acc.Length; i++)
        {
            acc[i] *= scale;
        }

        return acc[0];
    }

    [Benchmark(Description = "FedAvg (streaming SIMD)")]
    public float FedAvg()
    {
        using IRoundAggregator round = _fedAvg.BeginRound(_global, new AggregationContext(1, _updates.Length));
        for (int c = 0; c < _updates.Length; c++)
        {
            round.Add(new ClientUpdate("c", _updates[c], _weights[c], ConfigRecord.Empty));
        }

        using ModelParameters result = round.Complete();
        return result.Values[0];
    }
}
