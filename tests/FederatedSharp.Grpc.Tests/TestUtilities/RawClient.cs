using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using FederatedSharp.Grpc.Hosting;
using FederatedSharp.Grpc.Protocol;
using FederatedSharp.Grpc.Security;
using Grpc.Core;
using Grpc.Net.Client;

namespace FederatedSharp.Grpc.Tests.TestUtilities;

/// <summary>A hand-driven protocol client for tests that need to misbehave: it never heartbeats on its own.</summary>
internal sealed class RawClient : IAsyncDisposable
{
    private readonly GrpcChannel _channel;
    private readonly AsyncDuplexStreamingCall<ClientMessage, ServerMessage>? _session;

    private RawClient(GrpcChannel channel, AsyncDuplexStreamingCall<ClientMessage, ServerMessage>? session)
    {
        _channel = channel;
        _session = session;
        Api = new Federation.FederationClient(channel);
    }

    public Federation.FederationClient Api { get; }

    public AsyncDuplexStreamingCall<ClientMessage, ServerMessage> Session => _session ?? throw new InvalidOperationException("not registered");

    public static GrpcChannel CreateChannel(GrpcFederationHost host, X509Certificate2? certificate)
    {
        var handler = new SocketsHttpHandler
        {
            SslOptions = new SslClientAuthenticationOptions
            {
                ClientCertificates = certificate is null ? null : new X509CertificateCollection { certificate },
                RemoteCertificateValidationCallback = FederationCertificates.ServerValidator(TestCertificates.PublicAuthority),
            },
        };
        return GrpcChannel.ForAddress(host.Address, new GrpcChannelOptions { HttpHandler = handler, DisposeHttpClient = true, MaxSendMessageSize = null, MaxReceiveMessageSize = null });
    }

    /// <summary>Connects with a certificate for <paramref name="clientId"/> and registers.</summary>
    public static async Task<RawClient> ConnectAsync(GrpcFederationHost host, string clientId, uint protocolVersion = GrpcProtocol.Version)
    {
        GrpcChannel channel = CreateChannel(host, TestCertificates.Authority.IssueClientCertificate(clientId));
        var api = new Federation.FederationClient(channel);
        var session = api.Session();
        try
        {
            await session.RequestStream.WriteAsync(new ClientMessage { Register = new Register { ClientId = clientId, ProtocolVersion = protocolVersion } });
            if (!await session.ResponseStream.MoveNext(CancellationToken.None) || session.ResponseStream.Current.KindCase != ServerMessage.KindOneofCase.Registered)
            {
                throw new InvalidOperationException("not registered");
            }
        }
        catch
        {
            session.Dispose();
            channel.Dispose();
            throw;
        }

        return new RawClient(channel, session);
    }

    /// <summary>A channel with a certificate but no session, for calls on their own.</summary>
    public static RawClient Unregistered(GrpcFederationHost host, string clientId) =>
        new(CreateChannel(host, TestCertificates.Authority.IssueClientCertificate(clientId)), null);

    /// <summary>Waits for the next task instruction, skipping other messages.</summary>
    public async Task<TaskInstruction> NextTaskAsync()
    {
        while (await Session.ResponseStream.MoveNext(CancellationToken.None))
        {
            if (Session.ResponseStream.Current.KindCase == ServerMessage.KindOneofCase.Task)
            {
                return Session.ResponseStream.Current.Task;
            }
        }

        throw new InvalidOperationException("session ended");
    }

    /// <summary>True once the server closes the session.</summary>
    public async Task<bool> WaitForEndAsync()
    {
        try
        {
            while (await Session.ResponseStream.MoveNext(CancellationToken.None))
            {
            }
        }
        catch (RpcException)
        {
        }

        return true;
    }

    public ValueTask DisposeAsync()
    {
        _session?.Dispose();
        _channel.Dispose();
        return ValueTask.CompletedTask;
    }
}
