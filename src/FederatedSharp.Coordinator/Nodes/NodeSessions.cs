using System.Collections.Concurrent;
using System.Threading.Channels;
using FederatedSharp.Grpc.Coordination;

namespace FederatedSharp.Coordinator.Nodes;

/// <summary>A node's live control stream: what the coordinator sends it, and when it ends.</summary>
internal sealed class NodeSession(string node)
{
    public string Node { get; } = node;

    public Channel<CoordinatorMessage> Outbound { get; } = Channel.CreateUnbounded<CoordinatorMessage>(new UnboundedChannelOptions { SingleReader = true });

    public CancellationTokenSource Ended { get; } = new();

    public string? EndReason { get; private set; }

    public void End(string reason)
    {
        EndReason ??= reason;
        Outbound.Writer.TryComplete();
        Ended.Cancel();
    }
}

/// <summary>The nodes connected right now, and the answers they give to jobs.</summary>
internal sealed class NodeSessions
{
    private readonly ConcurrentDictionary<string, NodeSession> _sessions = new(StringComparer.Ordinal);

    /// <summary>Raised when a node connects (the job runner offers it the job being gathered).</summary>
    public event Action<string>? Connected;

    /// <summary>Raised when a node's control stream ends.</summary>
    public event Action<string>? Disconnected;

    /// <summary>Raised when a node answers a job.</summary>
    public event Action<string, JobAnswer>? Answered;

    public IReadOnlyList<string> Nodes => _sessions.Keys.Order(StringComparer.Ordinal).ToArray();

    public NodeSession Register(string node)
    {
        var session = new NodeSession(node);
        _sessions.AddOrUpdate(node, session, (_, previous) =>
        {
            previous.End("replaced by a new connection of the same node");
            return session;
        });
        Connected?.Invoke(node);
        return session;
    }

    public void Unregister(NodeSession session)
    {
        if (_sessions.TryRemove(new KeyValuePair<string, NodeSession>(session.Node, session)))
        {
            Disconnected?.Invoke(session.Node);
        }
    }

    public bool Send(string node, CoordinatorMessage message) => _sessions.TryGetValue(node, out NodeSession? session) && session.Outbound.Writer.TryWrite(message);

    public void End(string node, string reason)
    {
        if (_sessions.TryRemove(node, out NodeSession? session))
        {
            session.End(reason);
        }
    }

    public void OnAnswer(string node, JobAnswer answer) => Answered?.Invoke(node, answer);
}
