namespace FederatedSharp.Transport;

/// <summary>
/// The waiting half of <see cref="ITransport.WaitForClientsAsync"/> for transport authors: waiters complete once the
/// number of connected clients reaches their minimum. Call <see cref="Notify"/> whenever a client connects and
/// <see cref="Fail"/> when the transport is disposed.
/// </summary>
internal sealed class ClientCountWaiter
{
    private readonly Func<int> _count;
    private readonly object _gate = new();
    private readonly List<(int Minimum, TaskCompletionSource Completion)> _waiters = new();

    /// <summary>Creates a waiter over the transport's current client count.</summary>
    /// <param name="count">Returns how many clients are connected now.</param>
    public ClientCountWaiter(Func<int> count) => _count = count ?? throw new ArgumentNullException(nameof(count));

    /// <summary>Completes when at least <paramref name="minimum"/> clients are connected.</summary>
    /// <param name="minimum">How many clients to wait for.</param>
    /// <param name="cancellationToken">Stops waiting.</param>
    /// <returns>A task that completes when enough clients are connected.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="minimum"/> is negative.</exception>
    public Task WaitAsync(int minimum, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(minimum);
        TaskCompletionSource completion;
        lock (_gate)
        {
            if (_count() >= minimum)
            {
                return Task.CompletedTask;
            }

            completion = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _waiters.Add((minimum, completion));
        }

        return completion.Task.WaitAsync(cancellationToken);
    }

    /// <summary>Releases the waiters whose minimum is now met; call after a client connects.</summary>
    public void Notify()
    {
        lock (_gate)
        {
            int count = _count();
            for (int i = _waiters.Count - 1; i >= 0; i--)
            {
                if (_waiters[i].Minimum <= count)
                {
                    _waiters[i].Completion.TrySetResult();
                    _waiters.RemoveAt(i);
                }
            }
        }
    }

    /// <summary>Fails every waiter with <paramref name="exception"/> (for example when the transport is disposed).</summary>
    /// <param name="exception">What the waiters see.</param>
    public void Fail(Exception exception)
    {
        ArgumentNullException.ThrowIfNull(exception);
        lock (_gate)
        {
            foreach ((_, TaskCompletionSource completion) in _waiters)
            {
                completion.TrySetException(exception);
            }

            _waiters.Clear();
        }
    }
}
