namespace FederatedSharp.Grpc;

/// <summary>Facts about the wire protocol defined in <c>Protos/federation.proto</c>.</summary>
internal static class GrpcProtocol
{
    /// <summary>The protocol version this package speaks; a server refuses clients of another version.</summary>
    public const uint Version = 1;

    /// <summary>The default size of a model chunk on the wire: 1 MiB.</summary>
    public const int DefaultChunkBytes = 1024 * 1024;
}
