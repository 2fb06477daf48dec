namespace FederatedSharp.Aggregation;

/// <summary>
/// Implemented by strategies with server-side state that must survive a restart (momentum, Adam moments, control
/// variates). Checkpoints store <see cref="ExportState"/>; a resumed server calls <see cref="ImportState"/> before the
/// next round, after which the strategy behaves exactly as if it had never stopped.
/// </summary>
public interface IStatefulAggregator : IAggregator
{
    /// <summary>A copy of the current state.</summary>
    /// <returns>The state (the caller owns it).</returns>
    AggregatorState ExportState();

    /// <summary>Replaces the current state.</summary>
    /// <param name="state">A state exported by the same strategy with the same hyperparameters.</param>
    /// <exception cref="ArgumentException">The state belongs to another strategy or model layout.</exception>
    void ImportState(AggregatorState state);
}
