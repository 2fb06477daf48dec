using System.Diagnostics;
using Microsoft.Extensions.Time.Testing;

namespace FederatedSharp.TorchSharp.Tests.TestUtilities;

/// <summary>
/// A <see cref="FakeTimeProvider"/> that keeps track of its armed deadline timers (one-shot timers due after exactly
/// the deadline), each tagged with the span it was armed in, for <see cref="DropoutDeadlineTransport"/>. Every change of that set is signalled; all bookkeeping is
/// under the owner's gate.
/// </summary>
internal sealed class DeadlineClock : TimeProvider
{
    private readonly HashSet<Deadline> _armed = new();
    private readonly object _gate;
    private readonly Action _changed;
    private readonly TimeSpan _deadline;

    public DeadlineClock(object gate, Action changed, TimeSpan deadline)
    {
        _gate = gate;
        _changed = changed;
        _deadline = deadline;
    }

    /// <summary>The clock that the owner moves.</summary>
    public FakeTimeProvider Fake { get; } = new();

    /// <summary>Set (under the gate) while the owner moves the clock: a deadline armed meanwhile falls after the jump.</summary>
    public bool Jumping { get; set; }

    /// <summary>Whether at least one deadline timer is armed and every armed one was armed inside one of <paramref name="spans"/> (call under the gate).</summary>
    public bool AllArmedDeadlinesBelongTo(HashSet<Activity> spans) =>
        _armed.Count > 0 && _armed.All(d => d.Span is not null && spans.Contains(d.Span));

    /// <summary>When the last armed deadline falls due (call under the gate, with one armed).</summary>
    public DateTimeOffset LatestDeadline => _armed.Max(d => d.Due);

    public override DateTimeOffset GetUtcNow() => Fake.GetUtcNow();

    public override long GetTimestamp() => Fake.GetTimestamp();

    public override long TimestampFrequency => Fake.TimestampFrequency;

    public override TimeZoneInfo LocalTimeZone => Fake.LocalTimeZone;

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        if (dueTime != _deadline || period != Timeout.InfiniteTimeSpan)
        {
            return Fake.CreateTimer(callback, state, dueTime, period);
        }

        var timer = new Deadline(this) { Span = Activity.Current };
        lock (_gate)
        {
            TimeSpan due = Jumping ? dueTime + TimeSpan.FromTicks(1) : dueTime;
            timer.Due = Fake.GetUtcNow() + due;
            timer.Inner = Fake.CreateTimer(
                s =>
                {
                    timer.Disarm();
                    callback(s);
                },
                state,
                due,
                period);
            _armed.Add(timer);
        }

        _changed();
        return timer;
    }

    private sealed class Deadline(DeadlineClock clock) : ITimer
    {
        public DateTimeOffset Due { get; set; }

        /// <summary>The span current when the timer was armed: the server's client-call span.</summary>
        public Activity? Span { get; init; }

        public ITimer? Inner { get; set; }

        public void Disarm()
        {
            lock (clock._gate)
            {
                clock._armed.Remove(this);
            }

            clock._changed();
        }

        public bool Change(TimeSpan dueTime, TimeSpan period)
        {
            lock (clock._gate)
            {
                clock._armed.Remove(this);
                if (dueTime == clock._deadline && period == Timeout.InfiniteTimeSpan)
                {
                    Due = clock.Fake.GetUtcNow() + dueTime;
                    clock._armed.Add(this);
                }

                bool changed = Inner!.Change(dueTime, period);
                clock._changed();
                return changed;
            }
        }

        public void Dispose()
        {
            Disarm();
            Inner?.Dispose();
        }

        public ValueTask DisposeAsync()
        {
            Dispose();
            return ValueTask.CompletedTask;
        }
    }
}
