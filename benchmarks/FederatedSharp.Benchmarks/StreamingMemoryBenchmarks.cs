using BenchmarkDotNet.Attributes;
using FederatedSharp.Aggregation;
using FederatedSharp.Clients;
using FederatedSharp.Parameters;

/// <summary>
/// A 1,000-client FedAvg round of 100,000-parameter updates through the streaming Add: the memory diagnoser's
/// "Allocated" is for the whole round (1,000 Adds), so bytes per Add = Allocated / 1,000. The accumulator and the
/// result (2 x 400 KB) come from the array pool.
/// </summary>
public class StreamingMemoryBenchmarks
{
    private ModelParameters _global = null!;
    private ModelParameters[] _updates = Array.Empty<ModelParameters>();
    private readonly FedAvg _fedAvg = new();

    [Params(1000)]
    public int Clients { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var layout = TensorLayout.Create(new TensorSpec("w", 100_000));
        _global = ModelParameters.Create(layout);
        // Eight distinct buffers cycled through: the aggregator's memory must not depend on how many clients report.
        _updates = Enumerable.Range(0, 8).Select(i =>
        {
            ModelParameters p = ModelParameters.Create(layout);
            p.Values.Fill(i);
            return p;
        }).ToArray();
    }

    [Benchmark(Description = "FedAvg round, 1,000 streaming Adds")]
    public float Round()
    {
        using IRoundAggregator round = _fedAvg.BeginRound(_global, new AggregationContext(1, Clients, Clients));
        for (int c = 0; c < Clients; c++)
        {
            round.Add(new ClientUpdate("c", _updates[c % _updates.Length], 1 + (c % 7), ConfigRecord.Empty));
        }

        using ModelParameters result = round.Complete();
        return result.Values[0];
    }
}
