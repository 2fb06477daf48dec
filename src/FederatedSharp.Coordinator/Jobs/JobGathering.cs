using System.Collections.Concurrent;
using FederatedSharp.Coordinator.Nodes;
using FederatedSharp.Coordinator.Store;
using FederatedSharp.Grpc.Coordination;

namespace FederatedSharp.Coordinator.Jobs;

/// <summary>
/// Offers a job to every connected node (and to nodes that connect meanwhile), records every answer, asks again the
/// nodes whose site has not approved the plan yet, and completes when enough nodes accepted.
/// </summary>
internal sealed class JobGathering : IDisposable
{
    private readonly JobRecord _job;
    private readonly NodeSessions _sessions;
    private readonly CoordinatorStore _store;
    private readonly TimeProvider _time;
    private readonly ConcurrentDictionary<string, JobAnswer> _answers = new(StringComparer.Ordinal);
    // Never disposed: an answer can race the end of the gathering (an event handler already snapshotted), and a
    // SemaphoreSlim whose wait handle is never used holds nothing to release.
    private readonly SemaphoreSlim _changed = new(0);

    public JobGathering(JobRecord job, NodeSessions sessions, CoordinatorStore store, TimeProvider time)
    {
        _job = job;
        _sessions = sessions;
        _store = store;
        _time = time;
        _sessions.Answered += OnAnswered;
        _sessions.Connected += Offer;
    }

    public IReadOnlyDictionary<string, JobAnswer> Answers => _answers;

    public IReadOnlyList<string> Accepted => _answers.Where(a => a.Value.Outcome == "accepted").Select(a => a.Key).Order(StringComparer.Ordinal).ToArray();

    /// <summary>Waits until <paramref name="needed"/> nodes accepted and every connected node answered (or the grace passed), or the timeout.</summary>
    public async Task<IReadOnlyList<string>> GatherAsync(int needed, CoordinatorOptions options, CancellationToken cancellationToken)
    {
        foreach (string node in _sessions.Nodes)
        {
            Offer(node);
        }

        long start = _time.GetTimestamp();
        long lastOffer = start;
        long? enoughSince = null;
        while (true)
        {
            int accepted = Accepted.Count;
            bool allAnswered = _sessions.Nodes.All(_answers.ContainsKey);
            if (accepted >= needed)
            {
                enoughSince ??= _time.GetTimestamp();
                if (allAnswered || _time.GetElapsedTime(enoughSince.Value) >= options.AnswerGrace)
                {
                    return Accepted;
                }
            }
            else if (_time.GetElapsedTime(start) >= options.AcceptanceTimeout)
            {
                return Accepted;
            }

            if (_time.GetElapsedTime(lastOffer) >= options.ReofferInterval)
            {
                lastOffer = _time.GetTimestamp();
                foreach ((string node, JobAnswer answer) in _answers.Where(a => a.Value.Outcome == "pending_approval").ToArray())
                {
                    _answers.TryRemove(new KeyValuePair<string, JobAnswer>(node, answer));
                    Offer(node);
                }
            }

            using var wake = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            Task changed = _changed.WaitAsync(wake.Token);
            await Task.WhenAny(changed, Task.Delay(options.PollInterval, _time, wake.Token)).ConfigureAwait(false);
            await wake.CancelAsync().ConfigureAwait(false);
            cancellationToken.ThrowIfCancellationRequested();
        }
    }

    public void Dispose()
    {
        _sessions.Answered -= OnAnswered;
        _sessions.Connected -= Offer;
    }

    private void Offer(string node)
    {
        var offer = new JobOffer { JobId = _job.Id, PlanJson = _job.PlanJson, Researcher = _job.SubmittedBy };
        offer.Datasets.AddRange(_job.Datasets);
        _sessions.Send(node, new CoordinatorMessage { Offer = offer });
    }

    private void OnAnswered(string node, JobAnswer answer)
    {
        if (answer.JobId != _job.Id)
        {
            return;
        }

        NodeDecision decision = answer.Outcome switch
        {
            "accepted" when answer.PlanHash == _job.PlanHash => NodeDecision.Accepted,
            "accepted" => NodeDecision.Refused,
            "pending_approval" => NodeDecision.PendingApproval,
            _ => NodeDecision.Refused,
        };
        string reason = decision == NodeDecision.Refused && answer.Outcome == "accepted"
            ? $"the node hashed the plan to {answer.PlanHash}, not {_job.PlanHash}"
            : answer.Reason;
        _answers[node] = decision == NodeDecision.Refused && answer.Outcome == "accepted" ? new JobAnswer(answer) { Outcome = "refused", Reason = reason } : answer;
        _store.RecordNodeDecisionAsync(new JobNodeRecord(_job.Id, node, decision, reason, answer.Dataset.Length > 0 ? answer.Dataset : null, answer.AllowExport, _time.GetUtcNow())).GetAwaiter().GetResult();
        _changed.Release();
    }
}
