using FederatedSharp.Grpc.DataChannel;
using FederatedSharp.Grpc.Protocol;
using FederatedSharp.Grpc.Streaming;

namespace FederatedSharp.Grpc.Server;

/// <summary>An instruction sent to a client whose result has not arrived yet. It completes exactly once.</summary>
internal sealed class PendingTask
{
    private int _uploadStarted;

    public PendingTask(string taskId, ClientSession session, TaskKind kind, int round, ChunkedPayload? payload)
    {
        TaskId = taskId;
        Session = session;
        Kind = kind;
        Round = round;
        Payload = payload;
    }

    public string TaskId { get; }

    public ClientSession Session { get; }

    public TaskKind Kind { get; }

    public int Round { get; }

    public ChunkedPayload? Payload { get; }

    public TaskCompletionSource<object> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>The result's upload over the data channel, once one started (a cut connection resumes it).</summary>
    public ResumableUpload? DataUpload { get; set; }

    public bool TryBeginUpload() => Interlocked.Exchange(ref _uploadStarted, 1) == 0;

    public bool TryFail(Exception exception) => Completion.TrySetException(exception);
}
