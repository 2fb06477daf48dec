using System.Threading.Channels;
using Microsoft.Extensions.Time.Testing;

namespace FederatedSharp.Grpc.Tests.TestUtilities;

/// <summary>
/// A fake clock that tells the test each time the code under test creates a timer (a deadline, a delay), so the
/// test advances time only once the deadline it means to pass exists: no sleeps, no races with timer creation.
/// </summary>
public sealed class TimerObservingClock : TimeProvider
{
    private readonly Channel<TimeSpan> _created = Channel.CreateUnbounded<TimeSpan>();

    public FakeTimeProvider Fake { get; } = new();

    public override DateTimeOffset GetUtcNow() => Fake.GetUtcNow();

    public override long GetTimestamp() => Fake.GetTimestamp();

    public override long TimestampFrequency => Fake.TimestampFrequency;

    public override TimeZoneInfo LocalTimeZone => Fake.LocalTimeZone;

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        ITimer timer = Fake.CreateTimer(callback, state, dueTime, period);
        _created.Writer.TryWrite(dueTime);
        return timer;
    }

    /// <summary>Completes once a timer due after <paramref name="dueTime"/> has been created (to the millisecond: <c>Task.Delay</c> rounds to it).</summary>
    public async Task WaitForTimerAsync(TimeSpan dueTime, CancellationToken cancellationToken = default)
    {
        while (Math.Abs((await _created.Reader.ReadAsync(cancellationToken) - dueTime).TotalMilliseconds) > 1)
        {
        }
    }

    public void Advance(TimeSpan by) => Fake.Advance(by);
}
