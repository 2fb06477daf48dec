namespace FederatedSharp.Grpc.DataChannel;

/// <summary>
/// The sender's view of a receiver's cumulative acknowledgements: it waits until the receiver has confirmed enough
/// bytes that the next write keeps at most one window on the wire, so a cut connection costs at most a window again.
/// </summary>
internal sealed class AckWindow(long start, TimeProvider time)
{
    private readonly SemaphoreSlim _changed = new(0);
    private long _acknowledged = start;
    private Exception? _failure;

    public long Acknowledged => Interlocked.Read(ref _acknowledged);

    public void Acknowledge(long offset)
    {
        long seen = Acknowledged;
        while (offset > seen)
        {
            long was = Interlocked.CompareExchange(ref _acknowledged, offset, seen);
            if (was == seen)
            {
                break;
            }

            seen = was;
        }

        _changed.Release();
    }

    /// <summary>The acknowledgements stopped (the connection ended); waiters fail with this cause.</summary>
    public void Fail(Exception cause)
    {
        Interlocked.CompareExchange(ref _failure, cause, null);
        _changed.Release();
    }

    /// <summary>Waits until at least <paramref name="offset"/> bytes are acknowledged.</summary>
    /// <exception cref="IOException">The acknowledgements stopped first.</exception>
    /// <exception cref="TimeoutException">No acknowledgement arrived within <paramref name="timeout"/>.</exception>
    public async Task WaitForAsync(long offset, TimeSpan? timeout, CancellationToken cancellationToken)
    {
        while (Acknowledged < offset)
        {
            if (Volatile.Read(ref _failure) is { } failure)
            {
                throw new IOException($"The data connection ended with {Acknowledged} bytes acknowledged: {failure.Message}", failure);
            }

            using var deadline = timeout is TimeSpan limit ? new CancellationTokenSource(limit, time) : new CancellationTokenSource();
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, deadline.Token);
            try
            {
                await _changed.WaitAsync(linked.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                throw new TimeoutException($"The receiver acknowledged nothing beyond byte {Acknowledged} within {timeout!.Value.TotalSeconds:0.#} s.");
            }
        }
    }
}
