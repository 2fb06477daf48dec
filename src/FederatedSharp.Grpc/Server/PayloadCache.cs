using FederatedSharp.Grpc.Diagnostics;
using FederatedSharp.Grpc.Protocol;
using FederatedSharp.Grpc.Streaming;
using FederatedSharp.Parameters;
using Grpc.Core;

namespace FederatedSharp.Grpc.Server;

/// <summary>
/// The global model serialized once per round and phase (the last few kept), and the download call that streams it
/// zero-copy in chunks to every client of a task.
/// </summary>
internal sealed class PayloadCache(GrpcFederationOptions options, SessionRegistry sessions, GrpcCallGuard guard)
{
    private const int PayloadCacheSize = 4;
    private readonly object _gate = new();
    private readonly LinkedList<(ModelParameters Parameters, int Round, TaskKind Kind, Lazy<ChunkedPayload> Payload)> _payloads = new();
    private long _bytesSent;

    public long BytesSent => Interlocked.Read(ref _bytesSent);

    public void Clear()
    {
        lock (_gate)
        {
            _payloads.Clear();
        }
    }

    public ChunkedPayload Get(ModelParameters parameters, int round, TaskKind kind)
    {
        Lazy<ChunkedPayload> payload;
        lock (_gate)
        {
            var entry = _payloads.FirstOrDefault(e => ReferenceEquals(e.Parameters, parameters) && e.Round == round && e.Kind == kind);
            if (entry.Payload is null)
            {
                entry = (parameters, round, kind, new Lazy<ChunkedPayload>(() =>
                {
                    var buffer = new ChunkedPayload(options.ChunkBytes);
                    options.Serializer.Serialize(parameters, buffer);
                    return buffer.Complete();
                }));
                _payloads.AddFirst(entry);
                while (_payloads.Count > PayloadCacheSize)
                {
                    _payloads.RemoveLast();
                }
            }

            payload = entry.Payload;
        }

        return payload.Value;
    }

    public async Task DownloadAsync(DownloadRequest request, IServerStreamWriter<ModelChunk> responses, ServerCallContext context)
    {
        string? identity = guard.Authenticate(context, "DownloadModel");
        PendingTask task = sessions.FindTask(request.TaskId, identity, context, "DownloadModel");
        if (task.Payload is not { } payload)
        {
            throw guard.Refuse(context, "DownloadModel", StatusCode.InvalidArgument, $"Task '{request.TaskId}' has no model.");
        }

        using var linked = CancellationTokenSource.CreateLinkedTokenSource(context.CancellationToken, task.Ended);
        foreach (ReadOnlyMemory<byte> slice in payload.Slices(options.ChunkBytes))
        {
            await responses.WriteAsync(new ModelChunk { Data = Google.Protobuf.UnsafeByteOperations.UnsafeWrap(slice) }, linked.Token).ConfigureAwait(false);
            CountSent(slice.Length);
        }
    }

    /// <summary>Counts model bytes sent to a client (by a download call or the data channel).</summary>
    public void CountSent(int bytes)
    {
        Interlocked.Add(ref _bytesSent, bytes);
        GrpcInstruments.BytesSent.Add(bytes, GrpcInstruments.Server);
    }
}
