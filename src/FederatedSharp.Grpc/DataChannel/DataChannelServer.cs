using System.Collections.Concurrent;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using FederatedSharp.Grpc.Diagnostics;
using FederatedSharp.Grpc.Server;
using Grpc.Core;
using Microsoft.Extensions.Logging;

namespace FederatedSharp.Grpc.DataChannel;

/// <summary>
/// The server end of the data channel: a TCP listener (TLS with client certificates when a server certificate is
/// set) whose connections each carry one download or one upload of a pending task. A caller is authenticated as on
/// gRPC and may only move its own tasks' bytes; refusals are answered with a status and a reason, counted and logged
/// like refused gRPC calls.
/// </summary>
internal sealed partial class DataChannelServer : IAsyncDisposable
{
    private readonly GrpcFederationOptions _options;
    private readonly SessionRegistry _sessions;
    private readonly PayloadCache _payloads;
    private readonly UploadReceiver _uploads;
    private readonly GrpcCallGuard _guard;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly Socket _listener;
    private readonly CancellationTokenSource _stopping = new();
    private readonly ConcurrentDictionary<Task, byte> _connections = new();
    private readonly Task _acceptLoop;

    public DataChannelServer(
        GrpcFederationOptions options, SessionRegistry sessions, PayloadCache payloads, UploadReceiver uploads, GrpcCallGuard guard, ILogger logger, TimeProvider time)
    {
        _options = options;
        _sessions = sessions;
        _payloads = payloads;
        _uploads = uploads;
        _guard = guard;
        _logger = logger;
        _time = time;
        DataChannelOptions data = options.DataChannel;
        _listener = new Socket(data.ListenAddress.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            _listener.Bind(new IPEndPoint(data.ListenAddress, data.Port));
            _listener.Listen(512);
        }
        catch
        {
            _listener.Dispose();
            throw;
        }

        Port = ((IPEndPoint)_listener.LocalEndPoint!).Port;
        _acceptLoop = AcceptAsync();
    }

    /// <summary>The port listened on.</summary>
    public int Port { get; }

    /// <summary>The port clients are told to dial.</summary>
    public int AdvertisedPort => _options.DataChannel.AdvertisedPort ?? Port;

    public async ValueTask DisposeAsync()
    {
        if (_stopping.IsCancellationRequested)
        {
            return;
        }

        await _stopping.CancelAsync().ConfigureAwait(false);
        _listener.Dispose();
        await _acceptLoop.ConfigureAwait(false);
        await Task.WhenAll(_connections.Keys).ConfigureAwait(false);
        _stopping.Dispose();
    }

    private async Task AcceptAsync()
    {
        while (!_stopping.IsCancellationRequested)
        {
            Socket socket;
            try
            {
                socket = await _listener.AcceptAsync(_stopping.Token).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                if (_stopping.IsCancellationRequested)
                {
                    return;
                }

                continue;
            }

            Task connection = Task.Run(() => ServeAsync(socket), CancellationToken.None);
            _connections.TryAdd(connection, 0);
            _ = connection.ContinueWith(done => _connections.TryRemove(done, out _), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        }
    }

    private async Task ServeAsync(Socket socket)
    {
        string peer = socket.RemoteEndPoint?.ToString() ?? "?";
        socket.NoDelay = true;
        Stream stream = new NetworkStream(socket, ownsSocket: true);
        try
        {
            (Stream secured, X509Certificate2? certificate, DataRequest request) = await AcceptRequestAsync(stream).ConfigureAwait(false);
            stream = secured;
            string call = request.Operation == DataOperation.Download ? "DataDownload" : "DataUpload";
            string? identity;
            try
            {
                identity = _guard.Authenticator.Authenticate(certificate, request.Authorization);
            }
            catch (RpcException ex)
            {
                throw _guard.Refuse(peer, call, ex.StatusCode, ex.Status.Detail);
            }

            if (request.Operation == DataOperation.Download)
            {
                await SendAsync(stream, request, identity, peer).ConfigureAwait(false);
            }
            else
            {
                await ReceiveAsync(stream, request, identity, peer).ConfigureAwait(false);
            }
        }
        catch (RpcException refusal)
        {
            await TryRespondAsync(stream, refusal.StatusCode, refusal.Status.Detail).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or InvalidDataException or OperationCanceledException or ObjectDisposedException or System.Security.Authentication.AuthenticationException or TimeoutException)
        {
            // A cut or malformed connection: the client resumes on a new one, or its task fails on the server's side.
            GrpcLog.DataConnectionEnded(_logger, peer, ex.Message);
        }
        catch (Exception ex)
        {
            // Whatever one connection does, the listener and the federation go on.
            GrpcLog.DataConnectionFailed(_logger, peer, ex);
        }
        finally
        {
            await stream.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>The TLS handshake (when configured) and the request, within the message timeout.</summary>
    private async Task<(Stream Stream, X509Certificate2? Certificate, DataRequest Request)> AcceptRequestAsync(Stream stream)
    {
        using var deadline = new CancellationTokenSource(_options.MessageTimeout, _time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(_stopping.Token, deadline.Token);
        X509Certificate2? certificate = null;
        if (_options.DataChannel.ServerCertificate is { } serverCertificate)
        {
            var ssl = new SslStream(stream, leaveInnerStreamOpen: false);
            stream = ssl;
            await ssl.AuthenticateAsServerAsync(
                new SslServerAuthenticationOptions
                {
                    ServerCertificate = serverCertificate,
                    ClientCertificateRequired = _options.ClientCertificateAuthority is not null,
                    RemoteCertificateValidationCallback = static (_, _, _, _) => true,
                    CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
                },
                linked.Token).ConfigureAwait(false);
            certificate = ssl.RemoteCertificate is { } remote ? remote as X509Certificate2 ?? X509CertificateLoader.LoadCertificate(remote.GetRawCertData()) : null;
        }

        DataRequest request = await DataFrames.ReadRequestAsync(stream, linked.Token).ConfigureAwait(false);
        return (stream, certificate, request);
    }

    private async Task TryRespondAsync(Stream stream, StatusCode status, string reason)
    {
        try
        {
            using var deadline = new CancellationTokenSource(_options.MessageTimeout, _time);
            await DataFrames.WriteResponseAsync(stream, new DataResponse(status, reason, 0, 0), deadline.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or OperationCanceledException or ObjectDisposedException)
        {
        }
    }
}
