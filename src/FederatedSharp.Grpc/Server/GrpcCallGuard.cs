using FederatedSharp.Grpc.Diagnostics;
using Grpc.Core;
using Microsoft.Extensions.Logging;

namespace FederatedSharp.Grpc.Server;

/// <summary>What every gRPC call of the federation shares: authentication, refusals (logged and counted) and read deadlines.</summary>
internal sealed class GrpcCallGuard(GrpcFederationOptions options, ClientAuthenticator authenticator, ILogger logger, TimeProvider time)
{
    private long _refusedCalls;

    public long RefusedCalls => Interlocked.Read(ref _refusedCalls);

    public string? Authenticate(ServerCallContext context, string call)
    {
        try
        {
            return authenticator.Authenticate(context);
        }
        catch (RpcException ex)
        {
            throw Refuse(context, call, ex.StatusCode, ex.Status.Detail);
        }
    }

    public async Task<T?> ReadWithTimeoutAsync<T>(IAsyncStreamReader<T> reader, string what, ServerCallContext context)
        where T : class
    {
        using var deadline = new CancellationTokenSource(options.MessageTimeout, time);
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(context.CancellationToken, deadline.Token);
        try
        {
            return await reader.MoveNext(cts.Token).ConfigureAwait(false) ? reader.Current : null;
        }
        catch (OperationCanceledException) when (!context.CancellationToken.IsCancellationRequested)
        {
            throw Refuse(context, "read", StatusCode.DeadlineExceeded, $"No {what} arrived within {options.MessageTimeout.TotalSeconds:0.#} s.");
        }
    }

    public ClientAuthenticator Authenticator => authenticator;

    public RpcException Refuse(ServerCallContext context, string call, StatusCode status, string reason) => Refuse(context.Peer, call, status, reason);

    /// <summary>Counts and logs a refused call (gRPC or data channel) and returns the exception that carries it.</summary>
    public RpcException Refuse(string peer, string call, StatusCode status, string reason)
    {
        Interlocked.Increment(ref _refusedCalls);
        GrpcInstruments.RefusedCalls.Add(1, new KeyValuePair<string, object?>("rpc.method", call));
        GrpcLog.CallRefused(logger, call, peer, status.ToString(), reason);
        return new RpcException(new Status(status, reason));
    }
}
