using FederatedSharp.Clients;
using FederatedSharp.Parameters;

namespace FederatedSharp.Aggregation;

/// <summary>One validated client result handed to an aggregator.</summary>
/// <param name="ClientId">The client that produced it.</param>
/// <param name="Parameters">Its locally trained parameters (the caller keeps ownership).</param>
/// <param name="ExampleCount">Its number of training examples (the FedAvg weight).</param>
/// <param name="Metrics">Its training metrics.</param>
public readonly record struct ClientUpdate(string ClientId, ModelParameters Parameters, long ExampleCount, ConfigRecord Metrics)
{
    /// <summary>
    /// The parameters the client started from when they differ from the round's global model (FedBuff's stale
    /// snapshots); null means the round's global model.
    /// </summary>
    public ModelParameters? StartedFrom { get; init; }
}
