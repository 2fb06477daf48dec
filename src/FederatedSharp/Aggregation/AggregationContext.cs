namespace FederatedSharp.Aggregation;

/// <summary>What an aggregator knows about the round it aggregates.</summary>
/// <param name="Round">The round number (1-based).</param>
/// <param name="SampledClients">How many clients were asked to train.</param>
public readonly record struct AggregationContext(int Round, int SampledClients);
