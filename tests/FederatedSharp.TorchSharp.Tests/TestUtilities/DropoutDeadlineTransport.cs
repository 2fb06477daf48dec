using FederatedSharp.Clients;
using FederatedSharp.Transport;
using FederatedSharp.Transport.InMemory;
using Microsoft.Extensions.Time.Testing;

namespace FederatedSharp.TorchSharp.Tests.TestUtilities;

/// <summary>
/// Forwards to an <see cref="InMemoryTransport"/> (whose latencies run on the real clock) and drives the server's fake
/// clock: the moment every fit call still in flight is one the transport dropped, time jumps to the latest of their
/// deadlines (under FedBuff a dropout holds its slot until then, so the others run with one slot fewer). Dropouts then time out as they would on the real clock, while a healthy call, however slow its training,
/// never can; no sleeps, no wall-clock deadline.
/// </summary>
public sealed class DropoutDeadlineTransport : ITransport
{
    private readonly InMemoryTransport _inner;
    private readonly TimeSpan _deadline;
    private readonly object _gate = new();
    private readonly Dictionary<long, (string ClientId, int Round, DateTimeOffset Started)> _inFlight = new();
    private long _calls;
    private readonly HashSet<(string ClientId, int Round)> _dropped = new();

    public DropoutDeadlineTransport(InMemoryTransport inner, TimeSpan fitDeadline)
    {
        _inner = inner;
        _deadline = fitDeadline;
        inner.FaultInjected += fault =>
        {
            if (fault is { Kind: InjectedFaultKind.Dropout, Operation: "fit" })
            {
                lock (_gate)
                {
                    _dropped.Add((fault.ClientId, fault.Round));
                }

                AdvanceIfOnlyDropoutsRemain();
            }
        };
    }

    /// <summary>The server's clock.</summary>
    public FakeTimeProvider Clock { get; } = new();

    public IReadOnlyList<string> GetAvailableClients() => _inner.GetAvailableClients();

    public Task WaitForClientsAsync(int minimum, CancellationToken cancellationToken = default) => _inner.WaitForClientsAsync(minimum, cancellationToken);

    public IClientConnection GetConnection(string clientId) => new Connection(this, _inner.GetConnection(clientId));

    public ValueTask DisposeAsync() => _inner.DisposeAsync();

    private void AdvanceIfOnlyDropoutsRemain()
    {
        lock (_gate)
        {
            if (_inFlight.Count == 0 || !_inFlight.Values.All(c => _dropped.Contains((c.ClientId, c.Round))))
            {
                return;
            }

            // Absolute, so two events seeing the same dropouts move time once; calls started later have later deadlines.
            DateTimeOffset target = _inFlight.Values.Max(c => c.Started) + _deadline;
            if (Clock.GetUtcNow() < target)
            {
                Clock.SetUtcNow(target);
            }
        }
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
                owner._inFlight[key] = (ClientId, instructions.Round, owner.Clock.GetUtcNow());
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

                owner.AdvanceIfOnlyDropoutsRemain();
            }
        }

        public Task<EvaluateResult> EvaluateAsync(EvaluateInstructions instructions, CancellationToken cancellationToken = default) => inner.EvaluateAsync(instructions, cancellationToken);

        public Task<QueryResult> QueryAsync(QueryInstructions instructions, CancellationToken cancellationToken = default) => inner.QueryAsync(instructions, cancellationToken);
    }
}
