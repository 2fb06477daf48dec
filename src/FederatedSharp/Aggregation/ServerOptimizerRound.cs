using FederatedSharp.Parameters;

namespace FederatedSharp.Aggregation;

/// <summary>
/// The round of a server-optimizer strategy (FedAvgM, FedOpt, SCAFFOLD's server step): the example-weighted mean of
/// the updates is computed by the streaming (and cache-blocked) FedAvg accumulator, then turned into the new global
/// model by <c>step(global, average)</c>, which overwrites the average with the new weights.
/// </summary>
internal sealed class ServerOptimizerRound : IRoundAggregator
{
    private readonly ModelParameters _global;
    private readonly WeightedAverageRound _average;
    private readonly Action<ReadOnlyMemory<float>, Memory<float>> _step;

    public ServerOptimizerRound(ModelParameters global, Action<ReadOnlyMemory<float>, Memory<float>> step)
    {
        _global = global;
        _average = new WeightedAverageRound(global.Layout);
        _step = step;
    }

    public int Count => _average.Count;

    public void Add(ClientUpdate update) => _average.Add(update);

    public void AddRange(IReadOnlyList<ClientUpdate> updates) => _average.AddRange(updates);

    public ModelParameters Complete()
    {
        ModelParameters result = _average.Complete();
        try
        {
            _step(_global.Memory, result.Memory);
            return result;
        }
        catch
        {
            result.Dispose();
            throw;
        }
    }

    public void Dispose() => _average.Dispose();
}
