using System.Collections.Concurrent;
using System.Threading.Channels;
using FederatedSharp.Grpc.Coordination;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

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
/// <remarks>
/// A failing subscriber never breaks a node's control stream: each handler runs on its own, and a throwing one is
/// logged and skipped.
/// </remarks>
internal sealed partial class NodeSessions(ILogger<NodeSessions>? logger = null)
{
    private readonly ILogger _logger = (ILogger?)logger ?? NullLogger.Instance;
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
        Raise(Connected, h => h(node), nameof(Connected));
        return session;
    }

    public void Unregister(NodeSession session)
    {
        if (_sessions.TryRemove(new KeyValuePair<string, NodeSession>(session.Node, session)))
        {
            Raise(Disconnected, h => h(session.Node), nameof(Disconnected));
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

    public void OnAnswer(string node, JobAnswer answer) => Raise(Answered, h => h(node, answer), nameof(Answered));

    private void Raise<T>(T? handlers, Action<T> invoke, string name)
        where T : Delegate
    {
        foreach (T handler in handlers?.GetInvocationList().Cast<T>() ?? [])
        {
            try
            {
                invoke(handler);
            }
            catch (Exception e)
            {
                Log.HandlerFailed(_logger, name, e);
            }
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 5301, Level = LogLevel.Error, Message = "A {Event} handler failed; the node's session goes on")]
        public static partial void HandlerFailed(ILogger logger, string @event, Exception exception);
    }
}
