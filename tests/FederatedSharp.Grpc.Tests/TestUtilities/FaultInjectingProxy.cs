using System.Net;
using System.Net.Sockets;

namespace FederatedSharp.Grpc.Tests.TestUtilities;

/// <summary>
/// A loopback TCP forwarder that cuts one chosen connection after a given number of bytes in one direction (both
/// sockets closed at once, as a failing link would), and can refuse every connection after that cut. It counts what it
/// forwarded each way, so a test can bound what was sent again.
/// </summary>
public sealed class FaultInjectingProxy : IAsyncDisposable
{
    private readonly Socket _listener = new(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
    private readonly CancellationTokenSource _stop = new();
    private readonly List<Task> _pumps = new();
    private readonly List<CancellationTokenSource> _live = new();
    private readonly Task _accepting;
    private long _toServer;
    private long _toClient;
    private int _connections;
    private int _cuts;

    public FaultInjectingProxy()
    {
        _listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        _listener.Listen(64);
        Port = ((IPEndPoint)_listener.LocalEndPoint!).Port;
        _accepting = AcceptAsync();
    }

    /// <summary>The port connections are forwarded to (set before the first connection).</summary>
    public int TargetPort { get; set; }

    /// <summary>Which connection to cut (0 = the first accepted).</summary>
    public int CutConnection { get; set; } = -1;

    /// <summary>True to cut after <see cref="CutAfterBytes"/> bytes towards the client, false towards the server.</summary>
    public bool CutTowardsClient { get; set; }

    public long CutAfterBytes { get; set; }

    /// <summary>After the cut, close the listening socket so every reconnection is refused.</summary>
    public bool RefuseAfterCut { get; set; }

    public int Port { get; }

    public long BytesToServer => Interlocked.Read(ref _toServer);

    public long BytesToClient => Interlocked.Read(ref _toClient);

    public int Connections => Volatile.Read(ref _connections);

    public int Cuts => Volatile.Read(ref _cuts);

    /// <summary>Raised (on the pump's thread) when the chosen connection is cut.</summary>
    public event Action? CutHappened;

    /// <summary>Cuts every live connection now, as a failing link would; with <see cref="RefuseAfterCut"/>, new ones are refused too.</summary>
    public void CutAll()
    {
        CancellationTokenSource[] live;
        lock (_live)
        {
            live = _live.ToArray();
        }

        foreach (CancellationTokenSource connection in live)
        {
            try
            {
                connection.Cancel();
            }
            catch (ObjectDisposedException)
            {
            }
        }

        if (RefuseAfterCut)
        {
            _listener.Close();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Dispose();
        await _accepting;
        Task[] pumps;
        lock (_pumps)
        {
            pumps = _pumps.ToArray();
        }

        await Task.WhenAll(pumps);
    }

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            Socket client;
            try
            {
                client = await _listener.AcceptAsync(_stop.Token);
            }
            catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                return;
            }

            int index = Interlocked.Increment(ref _connections) - 1;
            lock (_pumps)
            {
                _pumps.Add(Task.Run(() => ForwardAsync(client, index)));
            }
        }
    }

    private async Task ForwardAsync(Socket client, int index)
    {
        using Socket accepted = client;
        using var server = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        using var cut = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token);
        lock (_live)
        {
            _live.Add(cut);
        }

        try
        {
            await server.ConnectAsync(IPAddress.Loopback, TargetPort, cut.Token);
        }
        catch (Exception ex) when (ex is SocketException or OperationCanceledException)
        {
            Forget(cut);
            return;
        }

        long limit = index == CutConnection ? CutAfterBytes : long.MaxValue;
        Task up = PumpAsync(accepted, server, toClient: false, CutTowardsClient ? long.MaxValue : limit, cut);
        Task down = PumpAsync(server, accepted, toClient: true, CutTowardsClient ? limit : long.MaxValue, cut);
        await Task.WhenAny(up, down);
        await cut.CancelAsync();
        accepted.Close(0);
        server.Close(0);
        await Task.WhenAll(up, down);
        Forget(cut);
    }

    private void Forget(CancellationTokenSource connection)
    {
        lock (_live)
        {
            _live.Remove(connection);
        }
    }

    private async Task PumpAsync(Socket from, Socket to, bool toClient, long limit, CancellationTokenSource cut)
    {
        byte[] buffer = new byte[64 * 1024];
        long forwarded = 0;
        try
        {
            while (true)
            {
                int read = await from.ReceiveAsync(buffer, SocketFlags.None, cut.Token);
                if (read == 0)
                {
                    to.Shutdown(SocketShutdown.Send);
                    return;
                }

                int allowed = (int)Math.Min(read, limit - forwarded);
                if (allowed > 0)
                {
                    await to.SendAsync(buffer.AsMemory(0, allowed), SocketFlags.None, cut.Token);
                    forwarded += allowed;
                    Interlocked.Add(ref toClient ? ref _toClient : ref _toServer, allowed);
                }

                if (forwarded >= limit)
                {
                    Interlocked.Increment(ref _cuts);
                    if (RefuseAfterCut)
                    {
                        _listener.Close();
                    }

                    CutHappened?.Invoke();
                    return;
                }
            }
        }
        catch (Exception ex) when (ex is SocketException or OperationCanceledException or ObjectDisposedException)
        {
        }
    }
}
