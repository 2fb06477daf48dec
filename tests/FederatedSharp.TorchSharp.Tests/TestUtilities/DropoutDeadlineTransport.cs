using System.Diagnostics;
using FederatedSharp.Clients;
using FederatedSharp.Diagnostics;
using FederatedSharp.Transport;
using FederatedSharp.Transport.InMemory;

namespace FederatedSharp.TorchSharp.Tests.TestUtilities;

/// <summary>
/// Forwards to an <see cref="InMemoryTransport"/> (whose latencies run on the real clock) and gives the server a fake
/// clock that moves only to time out dropouts: the moment every fit deadline the server has armed belongs to a call the
/// transport dropped, time jumps to the latest of those deadlines. Dropouts then time out as they would on the real
/// clock, while a healthy call, however slow its training on a loaded machine, never can; no sleeps, no wall-clock
/// deadline.
/// </summary>
/// <remarks>
/// The rule is read from the clock's own timers, so it has no race with the server. The server arms a call's deadline
/// timers inside the call's <c>federatedsharp.client.call</c> span before the call reaches the transport, and disposes
/// them only after it has recorded the outcome; the clock tags each timer with the span current when it was armed, and
/// the transport knows which spans' calls were dropped. So while a healthy call is anywhere between its deadline being
/// armed and its outcome being recorded, one of its timers is armed and the clock stays. Jumps run on a pump task of
/// their own, never inside a server call, and a timer armed while a jump is under way is due one tick after it. The inner
/// transport's dropouts give up their concurrency slot, so a healthy call is never queued behind them.
/// </remarks>
public sealed class DropoutDeadlineTransport : ITransport
{
    private readonly InMemoryTransport _inner;
    private readonly DeadlineClock _clock;
    private readonly object _gate = new();
    private readonly Dictionary<long, Call> _inFlight = new();
    private readonly HashSet<Activity> _dropped = new();
    private readonly Dictionary<(string ClientId, int Round), int> _stamps = new();
    private readonly SemaphoreSlim _signal = new(0);
    private readonly CancellationTokenSource _stop = new();
    private readonly ActivityListener _spans;
    private readonly Task _pump;
    private long _calls;

    public DropoutDeadlineTransport(InMemoryTransport inner, TimeSpan fitDeadline)
    {
        _inner = inner;
        _clock = new DeadlineClock(_gate, Signal, fitDeadline);

        // The client-call spans are what ties a deadline timer to its call, so they must be created.
        _spans = new ActivityListener
        {
            ShouldListenTo = source => source.Name == FederatedSharpTelemetry.Name,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllData,
        };
        ActivitySource.AddActivityListener(_spans);
        inner.FaultInjected += fault =>
        {
            if (fault is { Kind: InjectedFaultKind.Dropout, Operation: "fit" })
            {
                lock (_gate)
                {
                    foreach (Call call in _inFlight.Values.Where(c => c.ClientId == fault.ClientId && c.Round == fault.Round))
                    {
                        _dropped.Add(call.Span);
                    }
                }

                Signal();
            }
        };
        _pump = Task.Run(PumpAsync);
    }

    /// <summary>The server's clock.</summary>
    public TimeProvider Clock => _clock;

    /// <summary>Read when a fit call ends, before the server sees its outcome (a test passes the versions closed so far).</summary>
    public Func<int>? Stamp { get; set; }

    /// <summary>The <see cref="Stamp"/> taken when each (client, round) fit call last ended.</summary>
    public IReadOnlyDictionary<(string ClientId, int Round), int> CompletionStamps
    {
        get
        {
            lock (_gate)
            {
                return new Dictionary<(string ClientId, int Round), int>(_stamps);
            }
        }
    }

    public IReadOnlyList<string> GetAvailableClients() => _inner.GetAvailableClients();

    public Task WaitForClientsAsync(int minimum, CancellationToken cancellationToken = default) => _inner.WaitForClientsAsync(minimum, cancellationToken);

    public IClientConnection GetConnection(string clientId) => new Connection(this, _inner.GetConnection(clientId));

    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        try
        {
            await _pump;
        }
        catch (OperationCanceledException)
        {
        }

        _spans.Dispose();
        await _inner.DisposeAsync();
    }

    private void Signal() => _signal.Release();

    private async Task PumpAsync()
    {
        while (true)
        {
            await _signal.WaitAsync(_stop.Token);
            DateTimeOffset? target;
            lock (_gate)
            {
                target = _clock.AllArmedDeadlinesBelongTo(_dropped) ? _clock.LatestDeadline : null;
                _clock.Jumping = target is not null;
            }

            if (target is { } to && to > _clock.GetUtcNow())
            {
                // Outside the gate: the timers' callbacks run the server's continuations on this thread.
                _clock.Fake.SetUtcNow(to);
            }

            lock (_gate)
            {
                _clock.Jumping = false;
            }
        }
    }

    private sealed record Call(string ClientId, int Round, Activity Span);

    private sealed class Connection(DropoutDeadlineTransport owner, IClientConnection inner) : IClientConnection
    {
        public string ClientId => inner.ClientId;

        public Task<ConfigRecord> GetPropertiesAsync(CancellationToken cancellationToken = default) => inner.GetPropertiesAsync(cancellationToken);

        public async Task<FitResult> FitAsync(FitInstructions instructions, CancellationToken cancellationToken = default)
        {
            Activity span = Activity.Current ?? throw new InvalidOperationException("A fit call arrived outside a client-call span: its deadline timers could not be told apart.");
            long key = Interlocked.Increment(ref owner._calls);
            lock (owner._gate)
            {
                owner._inFlight[key] = new Call(ClientId, instructions.Round, span);
            }

            try
            {
                return await inner.FitAsync(instructions, cancellationToken);
            }
            finally
            {
                int stamp = owner.Stamp?.Invoke() ?? 0;
                lock (owner._gate)
                {
                    owner._inFlight.Remove(key);
                    owner._dropped.Remove(span);
                    owner._stamps[(ClientId, instructions.Round)] = stamp;
                }

                owner.Signal();
            }
        }

        public Task<EvaluateResult> EvaluateAsync(EvaluateInstructions instructions, CancellationToken cancellationToken = default) => inner.EvaluateAsync(instructions, cancellationToken);

        public Task<QueryResult> QueryAsync(QueryInstructions instructions, CancellationToken cancellationToken = default) => inner.QueryAsync(instructions, cancellationToken);
    }
}
