using FederatedSharp.Clients;
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
/// The rule is read from the clock's own timers, not from the calls, so it has no race with the server: a server call
/// arms its deadline timers (a deadline token and a deadline wait) before it reaches the transport and disposes them
/// only after it has recorded the outcome, so while any healthy call is in flight some armed deadline timer is not a
/// dropout's. The clock jumps when the armed deadline timers number exactly two per dropout in flight. Jumps run on
/// a pump task of their own, never inside a server call, and a timer armed while a jump is under way is due one tick
/// after it, so a call that starts at the jump's instant is not timed out by it. The inner transport's dropouts give up
/// their concurrency slot, so a healthy call is never queued behind them.
/// </remarks>
public sealed class DropoutDeadlineTransport : ITransport
{
    private readonly InMemoryTransport _inner;
    private readonly DeadlineClock _clock;
    private readonly object _gate = new();
    private readonly Dictionary<long, Call> _inFlight = new();
    private readonly SemaphoreSlim _signal = new(0);
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _pump;
    private long _calls;

    public DropoutDeadlineTransport(InMemoryTransport inner, TimeSpan fitDeadline)
    {
        _inner = inner;
        _clock = new DeadlineClock(_gate, Signal, fitDeadline);
        inner.FaultInjected += fault =>
        {
            if (fault is { Kind: InjectedFaultKind.Dropout, Operation: "fit" })
            {
                lock (_gate)
                {
                    foreach (Call call in _inFlight.Values.Where(c => c.ClientId == fault.ClientId && c.Round == fault.Round))
                    {
                        call.Dropped = true;
                    }
                }

                Signal();
            }
        };
        _pump = Task.Run(PumpAsync);
    }

    /// <summary>The server's clock.</summary>
    public TimeProvider Clock => _clock;

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
                int dropouts = _inFlight.Values.Count(c => c.Dropped);
                target = dropouts > 0 && _clock.ArmedDeadlines == 2 * dropouts ? _clock.LatestDeadline : null;
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

    private sealed class Call(string clientId, int round)
    {
        public string ClientId { get; } = clientId;

        public int Round { get; } = round;

        public bool Dropped { get; set; }
    }

    private sealed class Connection(DropoutDeadlineTransport owner, IClientConnection inner) : IClientConnection
    {
        public string ClientId => inner.ClientId;

        public Task<ConfigRecord> GetPropertiesAsync(CancellationToken cancellationToken = default) => inner.GetPropertiesAsync(cancellationToken);

        public async Task<FitResult> FitAsync(FitInstructions instructions, CancellationToken cancellationToken = default)
        {
            long key = Interlocked.Increment(ref owner._calls);
            lock (owner._gate)
            {
                owner._inFlight[key] = new Call(ClientId, instructions.Round);
            }

            try
            {
                return await inner.FitAsync(instructions, cancellationToken);
            }
            finally
            {
                lock (owner._gate)
                {
                    owner._inFlight.Remove(key);
                }

                owner.Signal();
            }
        }

        public Task<EvaluateResult> EvaluateAsync(EvaluateInstructions instructions, CancellationToken cancellationToken = default) => inner.EvaluateAsync(instructions, cancellationToken);

        public Task<QueryResult> QueryAsync(QueryInstructions instructions, CancellationToken cancellationToken = default) => inner.QueryAsync(instructions, cancellationToken);
    }
}
