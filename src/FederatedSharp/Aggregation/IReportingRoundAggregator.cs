using FederatedSharp.Clients;

namespace FederatedSharp.Aggregation;

/// <summary>
/// Implemented by round aggregators with figures worth recording (privacy spent, clipping norm...): after
/// <see cref="IRoundAggregator.Complete"/> the server copies <see cref="GetRoundMetrics"/> into
/// <see cref="Server.RoundRecord.AggregatorMetrics"/>.
/// </summary>
public interface IReportingRoundAggregator : IRoundAggregator
{
    /// <summary>The round's figures.</summary>
    /// <returns>A frozen record.</returns>
    ConfigRecord GetRoundMetrics();
}
