using FederatedSharp.Coordinator.Store;
using FederatedSharp.Grpc.Coordination;
using Grpc.Core;
using Microsoft.AspNetCore.Http;

namespace FederatedSharp.Coordinator.Nodes;

/// <summary>The coordinator's gRPC service for nodes: enrolment, certificates, and the control stream.</summary>
internal sealed class CoordinatorService(NodeRegistry registry, NodeSessions sessions, CoordinatorStore store, TimeProvider time) : Grpc.Coordination.Coordinator.CoordinatorBase
{
    public override async Task<EnrolReply> Enrol(EnrolRequest request, ServerCallContext context)
    {
        try
        {
            await registry.RequestAsync(request.Node, request.CsrPem, request.Token, context.CancellationToken).ConfigureAwait(false);
            return new EnrolReply { Status = "pending", Message = $"Node '{request.Node}' asked to enrol; an admin must approve it (fedsharp ca approve {request.Node})." };
        }
        catch (EnrolmentException e)
        {
            throw new RpcException(new Status(StatusCode.PermissionDenied, e.Message));
        }
    }

    public override async Task<GetCertificateReply> GetCertificate(GetCertificateRequest request, ServerCallContext context)
    {
        (string status, string? certificate, string authority) = await registry.GetCertificateAsync(request.Node, context.CancellationToken).ConfigureAwait(false);
        return new GetCertificateReply { Status = status, CertificatePem = certificate ?? "", AuthorityPem = authority, Message = status };
    }

    public override async Task Connect(IAsyncStreamReader<NodeMessage> requestStream, IServerStreamWriter<CoordinatorMessage> responseStream, ServerCallContext context)
    {
        (NodeRecord? node, string? problem) = await registry.AuthenticateAsync(context.GetHttpContext().Connection.ClientCertificate, context.CancellationToken).ConfigureAwait(false);
        if (node is null)
        {
            throw new RpcException(new Status(problem!.Contains("revoked", StringComparison.Ordinal) ? StatusCode.PermissionDenied : StatusCode.Unauthenticated, problem));
        }

        if (!await requestStream.MoveNext(context.CancellationToken).ConfigureAwait(false) || requestStream.Current.KindCase != NodeMessage.KindOneofCase.Hello)
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument, "The first message of a node's control stream must be its hello."));
        }

        await store.TouchNodeAsync(node.Name, time.GetUtcNow(), requestStream.Current.Hello.PolicyJson, context.CancellationToken).ConfigureAwait(false);
        NodeSession session = sessions.Register(node.Name);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(context.CancellationToken, session.Ended.Token);
        Task writer = WriteAsync(session, responseStream, linked.Token);
        try
        {
            while (await requestStream.MoveNext(linked.Token).ConfigureAwait(false))
            {
                NodeMessage message = requestStream.Current;
                if (message.KindCase == NodeMessage.KindOneofCase.Answer)
                {
                    sessions.OnAnswer(node.Name, message.Answer);
                }

                await store.TouchNodeAsync(node.Name, time.GetUtcNow(), null, linked.Token).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (session.Ended.IsCancellationRequested)
        {
            throw new RpcException(new Status(StatusCode.PermissionDenied, $"Node '{node.Name}' session ended: {session.EndReason}"));
        }
        finally
        {
            sessions.Unregister(session);
            session.Outbound.Writer.TryComplete();
            await writer.ConfigureAwait(false);
        }
    }

    private static async Task WriteAsync(NodeSession session, IServerStreamWriter<CoordinatorMessage> responses, CancellationToken cancellationToken)
    {
        try
        {
            await foreach (CoordinatorMessage message in session.Outbound.Reader.ReadAllAsync(cancellationToken).ConfigureAwait(false))
            {
                await responses.WriteAsync(message, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException)
        {
        }
        catch (InvalidOperationException)
        {
            // The call ended while a message was being written.
        }
    }
}
