using FederatedSharp.Parameters;

namespace FederatedSharp.Aggregation;

/// <summary>
/// One round's accumulator. <see cref="Add"/> may be called concurrently as results arrive; linear strategies keep
/// O(model) memory however many clients report. Dispose it once the round is over.
/// </summary>
public interface IRoundAggregator : IDisposable
{
    /// <summary>The number of updates added so far.</summary>
    int Count { get; }

    /// <summary>
    /// Adds one client's update. The update's parameters remain the caller's, who may dispose them after the call but
    /// must not change their values: a strategy may hold them, read-only and without a copy, until the round is over
    /// (the built-in strategies retain the buffer, so the caller's dispose does not return it to the pool early).
    /// </summary>
    /// <param name="update">The update.</param>
    /// <exception cref="LayoutMismatchException">The update's layout differs from the global model's.</exception>
    /// <exception cref="InvalidOperationException">The round was completed.</exception>
    void Add(ClientUpdate update);

    /// <summary>
    /// Adds several updates at once, in list order. Linear strategies aggregate them cache-blocked (every update into
    /// one block of the accumulator while it is in cache), which reads memory once instead of once per update.
    /// </summary>
    /// <param name="updates">The updates; the caller keeps ownership (and, as for <see cref="Add"/>, leaves their values unchanged).</param>
    /// <exception cref="LayoutMismatchException">An update's layout differs from the global model's; none is added.</exception>
    void AddRange(IReadOnlyList<ClientUpdate> updates)
    {
        ArgumentNullException.ThrowIfNull(updates);
        foreach (ClientUpdate update in updates)
        {
            Add(update);
        }
    }

    /// <summary>Produces the new global parameters.</summary>
    /// <returns>New parameters the caller owns.</returns>
    /// <exception cref="InvalidOperationException">No update was added, or the round was already completed.</exception>
    ModelParameters Complete();
}
