using FederatedSharp.Clients;
using FederatedSharp.Parameters;

namespace FederatedSharp.Aggregation;

/// <summary>
/// Cyclic training (Chang et al. 2018, "Distributed deep learning networks among institutions for medical imaging";
/// FLamby's <c>Cyclic</c>): one client (or a fixed-size group) trains per round and its model becomes the global model
/// (the example-weighted mean when a group has several clients), visiting every client once per cycle in a seeded
/// order. With <see cref="DeterministicCycle"/> the same order repeats every cycle; otherwise each cycle is reshuffled.
/// Set <c>MinFitClients</c> to at most <see cref="GroupSize"/>. Memory: O(model).
/// </summary>
public sealed class Cyclic : IAggregator, IClientSelector
{
    /// <summary>Creates the strategy.</summary>
    /// <param name="groupSize">Clients per round (default 1).</param>
    /// <param name="deterministicCycle">Repeat the same order every cycle (FLamby's <c>deterministic_cycle</c>, default false).</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="groupSize"/> is not positive.</exception>
    public Cyclic(int groupSize = 1, bool deterministicCycle = false)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(groupSize);
        GroupSize = groupSize;
        DeterministicCycle = deterministicCycle;
    }

    /// <summary>Clients per round.</summary>
    public int GroupSize { get; }

    /// <summary>Whether every cycle uses the same order.</summary>
    public bool DeterministicCycle { get; }

    /// <inheritdoc />
    public string Name => "Cyclic";

    /// <inheritdoc />
    public AggregatorTraits Traits => AggregatorTraits.Linear;

    /// <inheritdoc />
    public void ConfigureFit(int round, ConfigRecord config)
    {
    }

    /// <inheritdoc />
    public IReadOnlyList<string> SelectFitClients(int round, IReadOnlyList<string> available, ulong seed)
    {
        ArgumentNullException.ThrowIfNull(available);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(round);
        if (available.Count == 0)
        {
            return Array.Empty<string>();
        }

        string[] order = available.ToArray();
        Array.Sort(order, StringComparer.Ordinal);
        int groups = (order.Length + GroupSize - 1) / GroupSize;
        int cycle = (round - 1) / groups;
        int position = (round - 1) % groups;
        new DeterministicRandom(DeterministicRandom.Mix(seed, 0xC1C11C, DeterministicCycle ? 0UL : (ulong)cycle)).ShuffleInPlace(order.AsSpan());
        int start = position * GroupSize;
        return order[start..Math.Min(order.Length, start + GroupSize)];
    }

    /// <inheritdoc />
    public IRoundAggregator BeginRound(ModelParameters globalParameters, AggregationContext context)
    {
        ArgumentNullException.ThrowIfNull(globalParameters);
        return new WeightedAverageRound(globalParameters.Layout);
    }
}
