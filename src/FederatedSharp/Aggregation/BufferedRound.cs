using FederatedSharp.Parameters;

namespace FederatedSharp.Aggregation;

/// <summary>
/// The round of an order-statistic strategy (median, trimmed mean, Krum, Bulyan): every update is held, not copied
/// (these strategies need all of them at once: clients x model memory, the buffers the server already has, kept alive
/// by a retention after the caller disposes them), then <c>combine</c> produces the new model.
/// Updates are kept in the order they were added.
/// </summary>
internal sealed class BufferedRound : IRoundAggregator
{
    private readonly TensorLayout _layout;
    private readonly Func<IReadOnlyList<BufferedUpdate>, TensorLayout, ModelParameters> _combine;
    private readonly List<BufferedUpdate> _updates = new();
    private bool _completed;

    public BufferedRound(TensorLayout layout, Func<IReadOnlyList<BufferedUpdate>, TensorLayout, ModelParameters> combine)
    {
        _layout = layout;
        _combine = combine;
    }

    public int Count
    {
        get
        {
            lock (_updates)
            {
                return _updates.Count;
            }
        }
    }

    public void Add(ClientUpdate update)
    {
        ArgumentNullException.ThrowIfNull(update.Parameters);
        _layout.EnsureCompatible(update.Parameters.Layout, $"update from client '{update.ClientId}'");
        if (update.ExampleCount <= 0)
        {
            throw new ArgumentException($"Update from client '{update.ClientId}' has {update.ExampleCount} examples; a positive count is needed.", nameof(update));
        }

        // Held, not copied: the retention keeps the caller's buffer alive (read-only) after the caller disposes it.
        ModelParameters.RetainedValues retained = update.Parameters.Retain();
        var held = new BufferedUpdate(update.ClientId, retained.Values, update.ExampleCount, retained);
        lock (_updates)
        {
            if (_completed)
            {
                retained.Dispose();
                throw new InvalidOperationException("The round was already completed.");
            }

            _updates.Add(held);
        }
    }

    public ModelParameters Complete()
    {
        lock (_updates)
        {
            if (_completed)
            {
                throw new InvalidOperationException("The round was already completed.");
            }

            if (_updates.Count == 0)
            {
                throw new InvalidOperationException("Cannot complete a round with no updates.");
            }

            _completed = true;
            try
            {
                return _combine(_updates, _layout);
            }
            finally
            {
                Release();
            }
        }
    }

    public void Dispose()
    {
        lock (_updates)
        {
            Release();
        }
    }

    private void Release()
    {
        foreach (BufferedUpdate update in _updates)
        {
            update.Retention.Dispose();
        }

        _updates.Clear();
    }
}

/// <summary>A copied update held by an order-statistic strategy.</summary>
internal sealed record BufferedUpdate(string ClientId, ReadOnlyMemory<float> Values, long ExampleCount, IDisposable Retention);
