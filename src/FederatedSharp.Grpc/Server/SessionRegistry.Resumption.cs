using FederatedSharp.Grpc.Diagnostics;
using FederatedSharp.Transport;
using Google.Protobuf.Collections;

namespace FederatedSharp.Grpc.Server;

/// <summary>Resuming tasks across a lost connection (<see cref="GrpcFederationOptions.ResumeGrace"/>).</summary>
internal sealed partial class SessionRegistry
{
    // A task of a lost connection waits for its client: the grace runs out (it fails) unless a new session of the client
    // took it over in the meantime, or it ended some other way (the round's deadline).
    private void AwaitResumption(PendingTask task, ClientSession lost)
    {
        GrpcLog.TaskAwaitingResumption(_logger, task.TaskId, lost.ClientId, _options.ResumeGrace.TotalSeconds);
        _ = Task.Delay(_options.ResumeGrace, _time, task.Ended).ContinueWith(
            delay =>
            {
                if (!delay.IsCanceled && ReferenceEquals(task.Session, lost))
                {
                    task.TryFail(new ClientFailedException(lost.ClientId,
                        $"its connection ended ({lost.EndReason}) and it did not resume the task within {_options.ResumeGrace.TotalSeconds:0.#} s."));
                }
            },
            CancellationToken.None,
            TaskContinuationOptions.ExecuteSynchronously,
            TaskScheduler.Default);
    }

    // The client registered again: the pending tasks of its ended sessions that it says it is still working on move to
    // the new session; the others fail now (a restarted client has lost them).
    private RepeatedField<string> Resume(ClientSession session, RepeatedField<string> running)
    {
        var resumed = new RepeatedField<string>();
        foreach (PendingTask task in _tasks.Values)
        {
            ClientSession owner = task.Session;
            if (task.ClientId != session.ClientId || ReferenceEquals(owner, session) || !owner.IsEnded)
            {
                continue;
            }

            if (!running.Contains(task.TaskId))
            {
                task.TryFail(new ClientFailedException(session.ClientId, "it registered again without the task (it restarted or gave it up)."));
                continue;
            }

            owner.Tasks.TryRemove(task.TaskId, out _);
            task.MoveTo(session);
            session.Tasks[task.TaskId] = task;
            resumed.Add(task.TaskId);
        }

        return resumed;
    }
}
