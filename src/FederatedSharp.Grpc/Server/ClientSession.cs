using System.Collections.Concurrent;
using System.Threading.Channels;
using FederatedSharp.Clients;
using FederatedSharp.Grpc.Protocol;

namespace FederatedSharp.Grpc.Server;

/// <summary>One registered connection of a client: its outbound message queue, liveness and pending tasks.</summary>
internal sealed class ClientSession
{
    private readonly CancellationTokenSource _ended = new();
    private long _lastSeenTicks;
    private string? _endReason;

    public ClientSession(string clientId, ConfigRecord properties, long now)
    {
        ClientId = clientId;
        Properties = properties;
        _lastSeenTicks = now;
    }

    public string SessionId { get; } = Guid.NewGuid().ToString("N");

    public string ClientId { get; }

    public ConfigRecord Properties { get; }

    public Channel<ServerMessage> Outbound { get; } = Channel.CreateUnbounded<ServerMessage>(new UnboundedChannelOptions { SingleReader = true });

    public ConcurrentDictionary<string, PendingTask> Tasks { get; } = new(StringComparer.Ordinal);

    public CancellationToken Ended => _ended.Token;

    public bool IsEnded => _ended.IsCancellationRequested;

    public string EndReason => Volatile.Read(ref _endReason) ?? "connection closed";

    public long LastSeen => Interlocked.Read(ref _lastSeenTicks);

    public void Touch(long now) => Interlocked.Exchange(ref _lastSeenTicks, now);

    public bool Send(ServerMessage message) => !IsEnded && Outbound.Writer.TryWrite(message);

    public void End(string reason)
    {
        Interlocked.CompareExchange(ref _endReason, reason, null);
        Outbound.Writer.TryComplete();
        try
        {
            _ended.Cancel();
        }
        catch (ObjectDisposedException)
        {
        }
    }
}
