using FederatedSharp.Clients;
using FederatedSharp.Parameters;

namespace FederatedSharp.Aggregation;

/// <summary>
/// Federated Averaging (McMahan et al. 2017, "Communication-Efficient Learning of Deep Networks from Decentralized
/// Data"): the new global model is the example-weighted mean of the client models,
/// <c>w = sum_k n_k w_k / sum_k n_k</c>. Streaming: one accumulator the size of the model, whatever the number of
/// clients; each <see cref="IRoundAggregator.Add"/> is one SIMD multiply-add over the buffer, parallel over blocks.
/// </summary>
public sealed class FedAvg : IAggregator
{
    /// <inheritdoc />
    public string Name => "FedAvg";

    /// <inheritdoc />
    public AggregatorTraits Traits => AggregatorTraits.Linear;

    /// <inheritdoc />
    public void ConfigureFit(int round, ConfigRecord config)
    {
    }

    /// <inheritdoc />
    public IRoundAggregator BeginRound(ModelParameters globalParameters, AggregationContext context)
    {
        ArgumentNullException.ThrowIfNull(globalParameters);
        return new WeightedAverageRound(globalParameters.Layout);
    }
}
