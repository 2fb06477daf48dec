using System.Numerics.Tensors;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using FederatedSharp.Aggregation;
using FederatedSharp.Clients;
using FederatedSharp.Parameters;

/// <summary>
/// Linear strategies on N updates of P parameters, against the machine's read-bandwidth bound (the fastest of five
/// read-only passes over the same N x P floats, <see cref="ReadBounds"/>) and a naive scalar loop (the ratio baseline),
/// in one run.
/// </summary>
[Config(typeof(Config))]
public class AggregationBenchmarks : ReadBoundBenchmarks
{
    private ModelParameters[] _updates = Array.Empty<ModelParameters>();
    private ClientUpdate[] _clientUpdates = Array.Empty<ClientUpdate>();
    private ReadOnlyMemory<float>[] _inputs = Array.Empty<ReadOnlyMemory<float>>();
    private ModelParameters _global = null!;
    private float[] _naive = Array.Empty<float>();
    private readonly FedAvg _fedAvg = new();
    private readonly FedProx _fedProx = new(0.01);
    private readonly FedAvgM _fedAvgM = new(1.0, 0.9);
    private readonly FedAdam _fedAdam = new();

    [Params(10, 100)]
    public int Clients { get; set; }

    [Params(1_000_000, 10_000_000)]
    public int Parameters { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var layout = TensorLayout.Create(new TensorSpec("w", Parameters));
        _global = ModelParameters.Create(layout);
        _updates = new ModelParameters[Clients];
        _clientUpdates = new ClientUpdate[Clients];
        for (int c = 0; c < Clients; c++)
        {
            _updates[c] = ModelParameters.CreateUninitialized(layout);
            Span<float> v = _updates[c].Values;
            for (int i = 0; i < v.Length; i++)
            {
                v[i] = (((i * 7) + c) % 13) * 0.01f;
            }

            _clientUpdates[c] = new ClientUpdate($"c{c}", _updates[c], 10 + (c % 90), ConfigRecord.Empty);
        }

        _inputs = _updates.Select(u => (ReadOnlyMemory<float>)u.Memory).ToArray();
        _naive = new float[Parameters];
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

    protected override IReadOnlyList<ReadOnlyMemory<float>> Inputs => _inputs;

    protected override int Length => Parameters;

    [Benchmark(Baseline = true, Description = "naive scalar loop")]
    public float Naive()
    {
        float[] acc = _naive;
        Array.Clear(acc);
        double total = 0;
        foreach (ClientUpdate u in _clientUpdates)
        {
            Span<float> v = u.Parameters.Values;
            float w = u.ExampleCount;
            for (int i = 0; i < acc.Length; i++)
            {
                acc[i] += w * v[i];
            }

            total += w;
        }

        float scale = (float)(1 / total);
        for (int i = 0; i < acc.Length; i++)
        {
            acc[i] *= scale;
        }

        return acc[0];
    }

    [Benchmark(Description = "FedAvg, Add per update (streaming)")]
    public float FedAvgStreaming() => Run(_fedAvg, batched: false);

    [Benchmark(Description = "FedAvg, AddRange (cache-blocked)")]
    public float FedAvgBlocked() => Run(_fedAvg, batched: true);

    [Benchmark(Description = "FedProx, AddRange")]
    public float FedProxBlocked() => Run(_fedProx, batched: true);

    [Benchmark(Description = "FedAvgM (momentum 0.9), AddRange")]
    public float FedAvgMBlocked() => Run(_fedAvgM, batched: true);

    [Benchmark(Description = "FedAdam, AddRange")]
    public float FedAdamBlocked() => Run(_fedAdam, batched: true);

    private float Run(IAggregator aggregator, bool batched)
    {
        using IRoundAggregator round = aggregator.BeginRound(_global, new AggregationContext(1, Clients, Clients));
        if (batched)
        {
            round.AddRange(_clientUpdates);
        }
        else
        {
            foreach (ClientUpdate u in _clientUpdates)
            {
                round.Add(u);
            }
        }

        using ModelParameters result = round.Complete();
        return result.Values[0];
    }

    private sealed class Config : ManualConfig
    {
        public Config()
        {
            AddColumn(new BoundFractionColumn(), new ReadBandwidthColumn());
        }
    }
}
