using FederatedSharp.Aggregation.Kernels;
using FederatedSharp.Parameters;

namespace FederatedSharp.Aggregation;

/// <summary>The streaming example-weighted mean shared by FedAvg and FedProx: O(model) memory, any number of clients.</summary>
internal sealed class WeightedAverageRound : IRoundAggregator
{
    private readonly TensorLayout _layout;
    private readonly object _gate = new();
    private ModelParameters? _sum;
    private double _totalWeight;
    private int _count;
    private bool _completed;

    public WeightedAverageRound(TensorLayout layout)
    {
        _layout = layout;
        _sum = ModelParameters.CreateUninitialized(layout);
    }

    public int Count => Volatile.Read(ref _count);

    public void Add(ClientUpdate update)
    {
        ArgumentNullException.ThrowIfNull(update.Parameters);
        _layout.EnsureCompatible(update.Parameters.Layout, $"update from client '{update.ClientId}'");
        if (update.ExampleCount <= 0)
        {
            throw new ArgumentException($"Update from client '{update.ClientId}' has {update.ExampleCount} examples; FedAvg needs a positive example count.", nameof(update));
        }

        lock (_gate)
        {
            if (_completed)
            {
                throw new InvalidOperationException("The round was already completed.");
            }

            ObjectDisposedException.ThrowIf(_sum is null, this);
            if (_count == 0)
            {
                // The first update overwrites the (uninitialized) accumulator: no separate clearing pass.
                AggregationKernels.Scale(update.Parameters.Memory, update.ExampleCount, _sum.Memory);
            }
            else
            {
                AggregationKernels.MultiplyAdd(update.Parameters.Memory, update.ExampleCount, _sum.Memory);
            }

            _totalWeight += update.ExampleCount;
            _count++;
        }
    }

    public void AddRange(IReadOnlyList<ClientUpdate> updates)
    {
        ArgumentNullException.ThrowIfNull(updates);
        var inputs = new ReadOnlyMemory<float>[updates.Count];
        var weights = new float[updates.Count];
        double total = 0;
        for (int i = 0; i < updates.Count; i++)
        {
            ClientUpdate update = updates[i];
            ArgumentNullException.ThrowIfNull(update.Parameters);
            _layout.EnsureCompatible(update.Parameters.Layout, $"update from client '{update.ClientId}'");
            if (update.ExampleCount <= 0)
            {
                throw new ArgumentException($"Update from client '{update.ClientId}' has {update.ExampleCount} examples; FedAvg needs a positive example count.", nameof(updates));
            }

            inputs[i] = update.Parameters.Memory;
            weights[i] = update.ExampleCount;
            total += update.ExampleCount;
        }

        lock (_gate)
        {
            if (_completed)
            {
                throw new InvalidOperationException("The round was already completed.");
            }

            ObjectDisposedException.ThrowIf(_sum is null, this);
            if (updates.Count == 0)
            {
                return;
            }

            AggregationKernels.WeightedSum(inputs, weights, _sum.Memory, overwrite: _count == 0);
            _totalWeight += total;
            _count += updates.Count;
        }
    }

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

    public ModelParameters Complete()
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
            AggregationKernels.Scale(result.Memory, (float)(1.0 / _totalWeight), result.Memory);
            return result;
        }
    }

    public void Dispose()
    {
        lock (_gate)
        {
            _sum?.Dispose();
            _sum = null;
        }
    }
}
