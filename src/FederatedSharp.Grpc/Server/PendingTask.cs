using FederatedSharp.Grpc.DataChannel;
using FederatedSharp.Grpc.Protocol;
using FederatedSharp.Grpc.Streaming;
using FederatedSharp.Parameters;

namespace FederatedSharp.Grpc.Server;

/// <summary>An instruction sent to a client whose result has not arrived yet. It completes exactly once.</summary>
internal sealed class PendingTask
{
    private int _uploadStarted;

    private readonly Lazy<ChunkedPayload>? _payload;

    public PendingTask(string taskId, ClientSession session, TaskKind kind, int round, ModelParameters? model, long modelBytes, Func<ChunkedPayload>? serialize)
    {
        TaskId = taskId;
        Session = session;
        Kind = kind;
        Round = round;
        Model = model;
        ModelBytes = modelBytes;
        _payload = serialize is null ? null : new Lazy<ChunkedPayload>(serialize);
    }

    public string TaskId { get; }

    public ClientSession Session { get; }

    public TaskKind Kind { get; }

    public int Round { get; }

    /// <summary>The model the client downloads (the caller's; it outlives the task), or null.</summary>
    public ModelParameters? Model { get; }

    /// <summary>The model's serialized length.</summary>
    public long ModelBytes { get; }

    /// <summary>The model serialized in chunks (shared by every task of the round), made on first use.</summary>
    public ChunkedPayload? Payload => _payload?.Value;

    public TaskCompletionSource<object> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>The result's upload over the data channel, once one started (a cut connection resumes it).</summary>
    public ResumableUpload? DataUpload { get; set; }

    public bool TryBeginUpload() => Interlocked.Exchange(ref _uploadStarted, 1) == 0;

    public bool TryFail(Exception exception) => Completion.TrySetException(exception);
}
