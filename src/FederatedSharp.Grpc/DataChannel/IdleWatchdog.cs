namespace FederatedSharp.Grpc.DataChannel;

/// <summary>
/// Cancels its token once no progress was reported for the timeout: one timer per connection instead of one per read
/// (a TLS connection delivers a 16 KiB record per read, and a timer each would cost more than the read).
/// </summary>
internal sealed class IdleWatchdog : IDisposable
{
    private readonly CancellationTokenSource _expired = new();
    private readonly TimeProvider _time;
    private readonly TimeSpan _timeout;
    private readonly ITimer _timer;
    private long _lastProgress;

    public IdleWatchdog(TimeSpan timeout, TimeProvider time)
    {
        _time = time;
        _timeout = timeout;
        _lastProgress = time.GetTimestamp();
        TimeSpan period = TimeSpan.FromTicks(Math.Max(TimeSpan.TicksPerMillisecond, timeout.Ticks / 4));
        _timer = time.CreateTimer(static state => ((IdleWatchdog)state!).Check(), this, period, period);
    }

    /// <summary>Cancelled once the connection was idle for the timeout.</summary>
    public CancellationToken Token => _expired.Token;

    public bool HasExpired => _expired.IsCancellationRequested;

    /// <summary>Records progress (bytes read or written).</summary>
    public void Touch() => Volatile.Write(ref _lastProgress, _time.GetTimestamp());

    public void Dispose()
    {
        _timer.Dispose();
        _expired.Dispose();
    }

    private void Check()
    {
        if (_time.GetElapsedTime(Volatile.Read(ref _lastProgress)) >= _timeout)
        {
            try
            {
                _expired.Cancel();
            }
            catch (ObjectDisposedException)
            {
            }
        }
    }
}
