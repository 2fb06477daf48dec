namespace FederatedSharp.Aggregation;

/// <summary>
/// Implemented by strategies that choose their own clients (for example <see cref="Cyclic"/>); the server then uses
/// this selection instead of its seeded random sampling.
/// </summary>
public interface IClientSelector
{
    /// <summary>Chooses the clients that train in <paramref name="round"/>.</summary>
    /// <param name="round">The round (1-based).</param>
    /// <param name="available">The connected clients, sorted by ordinal id.</param>
    /// <param name="seed">The federation's seed.</param>
    /// <returns>The chosen ids, in the order their updates are aggregated.</returns>
    IReadOnlyList<string> SelectFitClients(int round, IReadOnlyList<string> available, ulong seed);
}
