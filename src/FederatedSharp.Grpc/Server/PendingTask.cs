using FederatedSharp.Grpc.DataChannel;
using FederatedSharp.Grpc.Protocol;
using FederatedSharp.Grpc.Streaming;
using FederatedSharp.Parameters;

namespace FederatedSharp.Grpc.Server;

/// <summary>An instruction sent to a client whose result has not arrived yet. It completes exactly once.</summary>
internal sealed class PendingTask
{
    private readonly Lazy<ChunkedPayload>? _payload;
    private readonly CancellationTokenSource _ended = new();
    private ClientSession _session;
    private int _uploadStarted;

    public PendingTask(string taskId, ClientSession session, TaskKind kind, int round, ModelParameters? model, long modelBytes, Func<ChunkedPayload>? serialize)
    {
        TaskId = taskId;
        _session = session;
        ClientId = session.ClientId;
        Kind = kind;
        Round = round;
        Model = model;
        ModelBytes = modelBytes;
        _payload = serialize is null ? null : new Lazy<ChunkedPayload>(serialize);
        Completion.Task.ContinueWith(static (_, state) => ((CancellationTokenSource)state!).Cancel(), _ended, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
    }

    public string TaskId { get; }

    /// <summary>The session the task belongs to: the one it was sent on, or the one that resumed it after a lost connection.</summary>
    public ClientSession Session => Volatile.Read(ref _session);

    /// <summary>The client the task was sent to.</summary>
    public string ClientId { get; }

    /// <summary>Cancelled once the task is over (a result, a failure or a cancellation): transfers for it stop then.</summary>
    public CancellationToken Ended => _ended.Token;

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

    /// <summary>Hands the task to the client's new session (it registered again and is still working on it).</summary>
    public void MoveTo(ClientSession session) => Volatile.Write(ref _session, session);

    public bool TryBeginUpload() => Interlocked.Exchange(ref _uploadStarted, 1) == 0;

    public bool TryFail(Exception exception) => Completion.TrySetException(exception);
}
