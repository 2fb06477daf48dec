using FederatedSharp.Aggregation.Kernels;
using FederatedSharp.Parameters;

namespace FederatedSharp.Aggregation;

/// <summary>
/// A server optimiser's final pass: it calls <paramref name="complete"/> once (under whatever lock its state needs) with
/// the block step that turns each block of the round's mean into the new global model.
/// </summary>
/// <param name="global">The global model the round started from.</param>
/// <param name="complete">Runs the round's final pass with the given step and returns the result.</param>
/// <returns>The new global model.</returns>
internal delegate ModelParameters ServerStep(ReadOnlyMemory<float> global, Func<BlockFinisher, ModelParameters> complete);

/// <summary>
/// The round of a server-optimizer strategy (FedAvgM, FedOpt, SCAFFOLD's server step): the example-weighted mean of
/// the updates is computed by the coalescing FedAvg accumulator, and the optimiser's step runs on each block of the
/// mean inside the same final pass, while the block is in cache, so the step costs no pass of its own over memory.
/// </summary>
internal sealed class ServerOptimizerRound : IRoundAggregator
{
    private readonly ModelParameters _global;
    private readonly WeightedAverageRound _average;
    private readonly ServerStep _step;

    public ServerOptimizerRound(ModelParameters global, ServerStep step)
    {
        _global = global;
        _average = new WeightedAverageRound(global.Layout);
        _step = step;
    }

    public int Count => _average.Count;

    public void Add(ClientUpdate update) => _average.Add(update);

    public void AddRange(IReadOnlyList<ClientUpdate> updates) => _average.AddRange(updates);

    public ModelParameters Complete() => _step(_global.Memory, finish => _average.Complete(finish));

    public void Dispose() => _average.Dispose();
}
