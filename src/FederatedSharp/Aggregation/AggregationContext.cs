namespace FederatedSharp.Aggregation;

/// <summary>What an aggregator knows about the round it aggregates.</summary>
/// <param name="Round">The round number (1-based).</param>
/// <param name="SampledClients">How many clients were asked to train.</param>
/// <param name="AvailableClients">How many clients were connected when the round started (SCAFFOLD's N); 0 when unknown.</param>
public readonly record struct AggregationContext(int Round, int SampledClients, int AvailableClients = 0);
