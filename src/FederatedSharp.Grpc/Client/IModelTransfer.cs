using FederatedSharp.Grpc.Protocol;
using FederatedSharp.Grpc.Streaming;
using FederatedSharp.Parameters;

namespace FederatedSharp.Grpc.Client;

/// <summary>How a task's model bytes travel between the client and the server: gRPC streams or the data channel.</summary>
internal interface IModelTransfer
{
    /// <summary>Downloads and deserializes the model of a task (its size already checked against the client's limit).</summary>
    Task<ModelParameters> DownloadAsync(TaskInstruction task, CancellationToken cancellationToken);

    /// <summary>Sends a task's result: the header, and the serialized model when there is one.</summary>
    /// <exception cref="global::Grpc.Core.RpcException">The server refused the result (its status and reason).</exception>
    Task UploadAsync(ResultHeader header, ModelBody? body, CancellationToken cancellationToken);
}
