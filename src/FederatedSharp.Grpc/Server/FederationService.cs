using FederatedSharp.Grpc.Protocol;
using Grpc.Core;

namespace FederatedSharp.Grpc.Server;

/// <summary>The gRPC service clients connect to: sessions, downloads and uploads, each handled by the transport's part for it.</summary>
internal sealed class FederationService : Federation.FederationBase
{
    private readonly GrpcFederationTransport _transport;

    public FederationService(GrpcFederationTransport transport) => _transport = transport;

    public override Task Session(IAsyncStreamReader<ClientMessage> requestStream, IServerStreamWriter<ServerMessage> responseStream, ServerCallContext context) =>
        _transport.Sessions.RunSessionAsync(requestStream, responseStream, context);

    public override Task DownloadModel(DownloadRequest request, IServerStreamWriter<ModelChunk> responseStream, ServerCallContext context) =>
        _transport.Payloads.DownloadAsync(request, responseStream, context);

    public override Task<UploadAck> UploadResult(IAsyncStreamReader<UploadMessage> requestStream, ServerCallContext context) =>
        _transport.Uploads.UploadAsync(requestStream, context);
}
