using System.Collections.Concurrent;
using System.Threading.Channels;
using FederatedSharp.Coordinator.Nodes;
using FederatedSharp.Coordinator.Store;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Hosting;

namespace FederatedSharp.Coordinator.Dashboard;

/// <summary>
/// Tells open dashboard pages that something changed, by server-sent events: every write to the store (a round
/// recorded, a job moved, an audit entry, a heartbeat) and every node connecting or leaving. Signals coalesce: a page
/// that is busy refreshing gets one more signal, not a backlog.
/// </summary>
internal sealed class DashboardEvents : IDisposable
{
    private static readonly TimeSpan KeepAlive = TimeSpan.FromSeconds(15);
    private readonly ConcurrentDictionary<Channel<bool>, byte> _listeners = new();
    private readonly CoordinatorStore _store;
    private readonly NodeSessions _sessions;
    private readonly TimeProvider _time;
    private readonly CancellationToken _stopping;

    public DashboardEvents(CoordinatorStore store, NodeSessions sessions, TimeProvider time, IHostApplicationLifetime lifetime)
    {
        _store = store;
        _sessions = sessions;
        _time = time;
        _stopping = lifetime.ApplicationStopping;
        _store.Changed += Signal;
        _sessions.Connected += OnNode;
        _sessions.Disconnected += OnNode;
    }

    /// <summary>How many pages are listening (for tests).</summary>
    public int Listeners => _listeners.Count;

    public void Signal()
    {
        foreach (Channel<bool> listener in _listeners.Keys)
        {
            listener.Writer.TryWrite(true);
        }
    }

    /// <summary>Streams change signals to one page until it goes away or the coordinator stops.</summary>
    public async Task StreamAsync(HttpContext http)
    {
        http.Response.Headers.ContentType = "text/event-stream";
        http.Response.Headers.CacheControl = "no-cache, no-store";
        var channel = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite, SingleReader = true });
        _listeners[channel] = 0;
        using var ended = CancellationTokenSource.CreateLinkedTokenSource(http.RequestAborted, _stopping);
        try
        {
            await http.Response.WriteAsync("retry: 2000\nevent: ready\ndata: {}\n\n", ended.Token).ConfigureAwait(false);
            await http.Response.Body.FlushAsync(ended.Token).ConfigureAwait(false);
            long sequence = 0;
            while (!ended.IsCancellationRequested)
            {
                using var wait = CancellationTokenSource.CreateLinkedTokenSource(ended.Token);
                Task<bool> next = channel.Reader.WaitToReadAsync(wait.Token).AsTask();
                Task beat = Task.Delay(KeepAlive, _time, wait.Token);
                Task first = await Task.WhenAny(next, beat).ConfigureAwait(false);
                await wait.CancelAsync().ConfigureAwait(false);
                string message = first == next && channel.Reader.TryRead(out _) ? $"event: change\ndata: {++sequence}\n\n" : ": keep-alive\n\n";
                await http.Response.WriteAsync(message, ended.Token).ConfigureAwait(false);
                await http.Response.Body.FlushAsync(ended.Token).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException)
        {
            // The page went away or the coordinator is stopping.
        }
        finally
        {
            _listeners.TryRemove(channel, out _);
        }
    }

    public void Dispose()
    {
        _store.Changed -= Signal;
        _sessions.Connected -= OnNode;
        _sessions.Disconnected -= OnNode;
    }

    private void OnNode(string node) => Signal();
}
