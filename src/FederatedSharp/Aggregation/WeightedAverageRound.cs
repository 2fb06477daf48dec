using FederatedSharp.Aggregation.Kernels;
using FederatedSharp.Parameters;

namespace FederatedSharp.Aggregation;

/// <summary>
/// The streaming example-weighted mean shared by FedAvg, FedProx and the server optimisers, at the memory bound.
/// Arrivals are coalesced: updates are held (retained, not copied) until a group has gathered, then folded into the
/// running sum in one cache-blocked pass, so the sum crosses the memory bus once per group instead of once per update.
/// The last group is folded by <see cref="Complete(BlockFinisher?)"/> in the same pass that divides by the total weight and, for the
/// server optimisers, applies their step, so a round whose updates fit one group is a single read of every update and
/// one write of the result. Memory: the sum plus at most one group, whatever the number of clients.
/// </summary>
/// <remarks>
/// Per element the updates are added in arrival order, then scaled once, whatever the grouping, so Add and AddRange
/// in any batching give bit-identical results.
/// </remarks>
internal sealed class WeightedAverageRound : IRoundAggregator
{
    /// <summary>Updates a group holds at least.</summary>
    internal const int MinGroup = 4;

    /// <summary>Bytes a group may hold beyond <see cref="MinGroup"/> updates (small models gather whole rounds).</summary>
    internal const long GroupBytes = 512L << 20;

    private readonly TensorLayout _layout;
    private readonly object _gate = new();
    private readonly List<(ModelParameters.RetainedValues Values, float Weight)> _pending = new();
    private readonly int _groupSize;
    private ModelParameters? _sum;
    private bool _summed;
    private double _totalWeight;
    private int _count;
    private bool _completed;

    public WeightedAverageRound(TensorLayout layout)
    {
        _layout = layout;
        _sum = ModelParameters.CreateUninitialized(layout);
        _groupSize = (int)Math.Clamp(GroupBytes / Math.Max(1L, layout.TotalLength * (long)sizeof(float)), MinGroup, 64);
    }

    public int Count => Volatile.Read(ref _count);

    /// <summary>The sum of the example counts added so far.</summary>
    public double TotalWeight
    {
        get
        {
            lock (_gate)
            {
                return _totalWeight;
            }
        }
    }

    public void Add(ClientUpdate update) => AddRange(new[] { update });

    public void AddRange(IReadOnlyList<ClientUpdate> updates)
    {
        ArgumentNullException.ThrowIfNull(updates);
        foreach (ClientUpdate update in updates)
        {
            ArgumentNullException.ThrowIfNull(update.Parameters);
            _layout.EnsureCompatible(update.Parameters.Layout, $"update from client '{update.ClientId}'");
            if (update.ExampleCount <= 0)
            {
                throw new ArgumentException($"Update from client '{update.ClientId}' has {update.ExampleCount} examples; FedAvg needs a positive example count.", nameof(updates));
            }
        }

        lock (_gate)
        {
            if (_completed)
            {
                throw new InvalidOperationException("The round was already completed.");
            }

            ObjectDisposedException.ThrowIf(_sum is null, this);
            foreach (ClientUpdate update in updates)
            {
                _pending.Add((update.Parameters.Retain(), update.ExampleCount));
                _totalWeight += update.ExampleCount;
                _count++;
            }

            // Past a group, fold the oldest in arrival order and keep the newest 1 to groupSize for more arrivals or the
            // final pass: one-by-one arrivals fold a whole group per pass, a large batch all but its last group in one.
            if (_pending.Count > _groupSize)
            {
                Fold(_pending.Count - (((_pending.Count - 1) % _groupSize) + 1));
            }
        }
    }

    public ModelParameters Complete() => Complete(null);

    /// <summary>Folds the last group, divides by the total weight and applies <paramref name="finish"/>, block by block in one pass.</summary>
    /// <param name="finish">Run on each block of the mean while it is in cache; null for the mean itself.</param>
    /// <returns>The result, which the caller owns.</returns>
    public ModelParameters Complete(BlockFinisher? finish)
    {
        lock (_gate)
        {
            if (_completed)
            {
                throw new InvalidOperationException("The round was already completed.");
            }

            ObjectDisposedException.ThrowIf(_sum is null, this);
            if (_count == 0)
            {
                throw new InvalidOperationException("Cannot complete a round with no updates.");
            }

            _completed = true;
            ModelParameters result = _sum;
            _sum = null;
            try
            {
                var inputs = _pending.Select(p => p.Values.Values).ToArray();
                float[] weights = _pending.Select(p => p.Weight).ToArray();
                AggregationKernels.WeightedSum(inputs, weights, result.Memory, overwrite: !_summed, (float)(1.0 / _totalWeight), finish);
                return result;
            }
            catch
            {
                result.Dispose();
                throw;
            }
            finally
            {
                ReleasePending(_pending.Count);
            }
        }
    }

    public void Dispose()
    {
        lock (_gate)
        {
            ReleasePending(_pending.Count);
            _sum?.Dispose();
            _sum = null;
        }
    }

    private void Fold(int count)
    {
        var inputs = new ReadOnlyMemory<float>[count];
        var weights = new float[count];
        for (int i = 0; i < count; i++)
        {
            inputs[i] = _pending[i].Values.Values;
            weights[i] = _pending[i].Weight;
        }

        AggregationKernels.WeightedSum(inputs, weights, _sum!.Memory, overwrite: !_summed);
        _summed = true;
        ReleasePending(count);
    }

    private void ReleasePending(int count)
    {
        for (int i = 0; i < count; i++)
        {
            _pending[i].Values.Dispose();
        }

        _pending.RemoveRange(0, count);
    }
}
