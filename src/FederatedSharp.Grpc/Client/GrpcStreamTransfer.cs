using FederatedSharp.Grpc.Diagnostics;
using FederatedSharp.Grpc.Protocol;
using FederatedSharp.Grpc.Streaming;
using FederatedSharp.Parameters;
using Google.Protobuf;
using Grpc.Core;

namespace FederatedSharp.Grpc.Client;

/// <summary>Model bytes in chunked gRPC messages: DownloadModel down, UploadResult up (the fallback without a data channel).</summary>
internal sealed class GrpcStreamTransfer(Federation.FederationClient api, Metadata headers, GrpcClientOptions options, int chunkBytes, TimeProvider time) : IModelTransfer
{
    public async Task<ModelParameters> DownloadAsync(TaskInstruction task, CancellationToken cancellationToken)
    {
        using AsyncServerStreamingCall<ModelChunk> call = api.DownloadModel(new DownloadRequest { TaskId = task.TaskId }, headers, cancellationToken: cancellationToken);
        var stream = new ChunkReadStream(
            async ct => await call.ResponseStream.MoveNext(ct).ConfigureAwait(false) ? call.ResponseStream.Current.Data.Memory : (ReadOnlyMemory<byte>?)null,
            task.ModelBytes,
            options.MessageTimeout,
            "global model",
            time);
        ModelParameters parameters = await stream.ReadModelAsync(options.Serializer, task.ModelBytes, cancellationToken).ConfigureAwait(false);
        GrpcInstruments.BytesReceived.Add(stream.Received, GrpcInstruments.Client);
        return parameters;
    }

    public async Task UploadAsync(ResultHeader header, ModelBody? body, CancellationToken cancellationToken)
    {
        using AsyncClientStreamingCall<UploadMessage, UploadAck> call = api.UploadResult(headers, cancellationToken: cancellationToken);
        await call.RequestStream.WriteAsync(new UploadMessage { Header = header }, cancellationToken).ConfigureAwait(false);
        if (body is not null)
        {
            foreach (ReadOnlyMemory<byte> slice in body.ToPayload(chunkBytes).Slices(chunkBytes))
            {
                await call.RequestStream.WriteAsync(new UploadMessage { Chunk = UnsafeByteOperations.UnsafeWrap(slice) }, cancellationToken).ConfigureAwait(false);
                GrpcInstruments.BytesSent.Add(slice.Length, GrpcInstruments.Client);
            }
        }

        await call.RequestStream.CompleteAsync().ConfigureAwait(false);
        await call.ResponseAsync.ConfigureAwait(false);
    }
}
