using System.Collections.Concurrent;
using System.Text.Json;
using FederatedSharp.Clients;
using FederatedSharp.Coordinator.Nodes;
using FederatedSharp.Coordinator.Store;
using FederatedSharp.Grpc.Coordination;
using FederatedSharp.Grpc.Server;
using FederatedSharp.Plans;
using FederatedSharp.Serialization;
using FederatedSharp.Server;
using FederatedSharp.Server.Checkpoints;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace FederatedSharp.Coordinator.Jobs;

/// <summary>
/// Runs queued jobs one at a time on the round engine: gathers the nodes that accept the job, starts the job's rounds
/// over the federation transport with exactly those nodes, records every round, keeps the final model, and tells
/// the nodes when it is over. A coordinator restarted mid-job puts the job back in the queue and resumes it from its
/// round checkpoints.
/// </summary>
internal sealed partial class JobRunner(
    CoordinatorStore store, NodeSessions sessions, GrpcFederationTransport transport, CoordinatorHome home, CoordinatorOptions options,
    TimeProvider time, ILoggerFactory loggers) : BackgroundService, IHostedLifecycleService
{
    private readonly ILogger _logger = loggers.CreateLogger<JobRunner>();
    private readonly SemaphoreSlim _wake = new(0);
    private readonly CancellationTokenSource _stopping = new();
    private Task _current = Task.CompletedTask;
    private readonly ConcurrentDictionary<string, CancellationTokenSource> _running = new(StringComparer.Ordinal);

    /// <summary>Raised after a round of a job is stored (for diagnostics and tests).</summary>
    internal event Action<string, int>? RoundRecorded;

    /// <summary>Raised after a job ends, with how (for diagnostics and tests).</summary>
    internal event Action<string, JobStatus>? JobEnded;

    /// <summary>Wakes the runner (a job was submitted).</summary>
    public void Wake() => _wake.Release();

    public Task StartingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>
    /// The coordinator is stopping: the running job's rounds stop first (no round is cut short and checkpointed as
    /// failed), the job stays running in the store for the next start, and only then does the federation end.
    /// </summary>
    public async Task StoppingAsync(CancellationToken cancellationToken)
    {
        await _stopping.CancelAsync().ConfigureAwait(false);
        await _current.ConfigureAwait(false);
        await transport.DisposeAsync().ConfigureAwait(false);
    }

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>Stops a running job (it was cancelled).</summary>
    public void Cancel(string jobId)
    {
        if (_running.TryGetValue(jobId, out CancellationTokenSource? cts))
        {
            cts.Cancel();
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await RecoverAsync(stoppingToken).ConfigureAwait(false);
        while (!stoppingToken.IsCancellationRequested)
        {
            JobRecord? job = (await store.ListJobsAsync(JobStatus.Queued, stoppingToken).ConfigureAwait(false)).FirstOrDefault();
            if (job is null)
            {
                using var wake = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
                await Task.WhenAny(_wake.WaitAsync(wake.Token), Task.Delay(options.PollInterval, time, wake.Token)).ConfigureAwait(false);
                await wake.CancelAsync().ConfigureAwait(false);
                continue;
            }

            _current = RunAsync(job, stoppingToken);
            await _current.ConfigureAwait(false);
        }
    }

    private async Task RecoverAsync(CancellationToken cancellationToken)
    {
        foreach (JobRecord job in await store.ListJobsAsync(JobStatus.Running, cancellationToken).ConfigureAwait(false))
        {
            foreach (RunRecord run in (await store.ListRunsAsync(job.Id, cancellationToken).ConfigureAwait(false)).Where(r => r.EndedAt is null))
            {
                await store.FinishRunAsync(run.Id, JobStatus.Failed, "the coordinator stopped during the run", time.GetUtcNow(), cancellationToken).ConfigureAwait(false);
            }

            await store.TransitionJobAsync(job.Id, JobStatus.Queued, "resuming after a coordinator restart", time.GetUtcNow(), [JobStatus.Running], cancellationToken).ConfigureAwait(false);
            await store.AppendAuditAsync("coordinator", "job.requeued", job.Id, "coordinator restarted mid-job; resuming from its checkpoints", time.GetUtcNow(), cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task RunAsync(JobRecord job, CancellationToken hostStopping)
    {
        using var stopping = CancellationTokenSource.CreateLinkedTokenSource(hostStopping, _stopping.Token);
        CancellationToken stoppingToken = stopping.Token;
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
        _running[job.Id] = cts;
        IReadOnlyList<string> accepted = [];
        try
        {
            TrainingPlan plan = TrainingPlan.Parse(job.PlanJson);
            int needed = Math.Max(job.MinNodes, plan.Federation.MinClients);
            using (var gathering = new JobGathering(job, sessions, store, time))
            {
                accepted = await gathering.GatherAsync(needed, options, cts.Token).ConfigureAwait(false);
                if (accepted.Count < needed)
                {
                    string answers = string.Join("; ", gathering.Answers.OrderBy(a => a.Key, StringComparer.Ordinal).Select(a => $"{a.Key}: {a.Value.Reason}"));
                    await FinishAsync(job, null, JobStatus.Failed, $"{accepted.Count} node(s) accepted, {needed} needed ({(answers.Length == 0 ? "no node answered" : answers)})").ConfigureAwait(false);
                    return;
                }
            }

            await TrainAsync(job, plan, accepted, cts.Token).ConfigureAwait(false);
        }
        catch (Exception) when (stoppingToken.IsCancellationRequested)
        {
            // The coordinator is stopping: the job stays running in the store, and the next start resumes it from its checkpoints.
            Log.JobInterrupted(_logger, job.Id);
        }
        catch (OperationCanceledException)
        {
            await FinishAsync(job, null, JobStatus.Cancelled, "cancelled").ConfigureAwait(false);
        }
        catch (Exception e)
        {
            Log.JobFailed(_logger, job.Id, e);
            await FinishAsync(job, null, JobStatus.Failed, e.Message).ConfigureAwait(false);
        }
        finally
        {
            _running.TryRemove(job.Id, out _);
            foreach (string node in accepted)
            {
                sessions.Send(node, new CoordinatorMessage { Stop = new StopJob { JobId = job.Id, Reason = "the job is over" } });
            }

            lock (transport.Options.AllowedClientIds)
            {
                transport.Options.AllowedClientIds.Clear();
                transport.Options.AllowedClientIds.Add("\u0000none");
            }
        }
    }

    private async Task TrainAsync(JobRecord job, TrainingPlan plan, IReadOnlyList<string> accepted, CancellationToken cancellationToken)
    {
        if (!await store.TransitionJobAsync(job.Id, JobStatus.Running, $"running on {string.Join(", ", accepted)}", time.GetUtcNow(), [JobStatus.Queued], cancellationToken).ConfigureAwait(false))
        {
            return;
        }

        long run = await store.StartRunAsync(job.Id, time.GetUtcNow(), cancellationToken).ConfigureAwait(false);
        await store.AppendAuditAsync("coordinator", "job.started", job.Id, $"run {run} on {string.Join(", ", accepted)}", time.GetUtcNow(), cancellationToken).ConfigureAwait(false);
        lock (transport.Options.AllowedClientIds)
        {
            transport.Options.AllowedClientIds.Clear();
            transport.Options.AllowedClientIds.UnionWith(accepted);
        }

        // A node whose control stream dropped and came back is told again to start (a start it already runs is ignored).
        void Restart(string node)
        {
            if (accepted.Contains(node, StringComparer.Ordinal))
            {
                sessions.Send(node, new CoordinatorMessage { Start = new StartJob { JobId = job.Id } });
            }
        }

        sessions.Connected += Restart;
        try
        {
            foreach (string node in accepted)
            {
                Restart(node);
            }

            await RunRoundsAsync(job, plan, accepted, run, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            sessions.Connected -= Restart;
        }
    }

    private async Task RunRoundsAsync(JobRecord job, TrainingPlan plan, IReadOnlyList<string> accepted, long run, CancellationToken cancellationToken)
    {
        using (var join = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
        {
            Task joined = transport.WaitForClientsAsync(accepted.Count, join.Token);
            if (await Task.WhenAny(joined, Task.Delay(options.JoinTimeout, time, join.Token)).ConfigureAwait(false) != joined)
            {
                throw new TimeoutException($"Only {transport.GetAvailableClients().Count} of the {accepted.Count} accepting nodes joined the job's federation within {options.JoinTimeout}.");
            }

            await join.CancelAsync().ConfigureAwait(false);
        }

        var progress = new RoundRecorder(store, run, time, round => RoundRecorded?.Invoke(job.Id, round));
        var checkpoints = new FileCheckpointStore(Path.Combine(home.CheckpointsDirectory, job.Id));
        using FederationResult result = await PlanFederation.RunAsync(plan, transport,
            b => b.UseCheckpointStore(checkpoints).UseLoggerFactory(loggers).UseTimeProvider(time), progress, cancellationToken).ConfigureAwait(false);
        await progress.FlushAsync().ConfigureAwait(false);
        if (result.History.CrossSite is { } matrix)
        {
            string[] metrics = ["loss", .. plan.Metrics.Where(m => matrix.Values(m).Cast<double>().Any(double.IsFinite))];
            await store.SaveCrossSiteAsync(run, CrossSiteTable.ToJson(metrics.Select(m => CrossSiteTable.From(matrix, m))), cancellationToken).ConfigureAwait(false);
        }

        Directory.CreateDirectory(home.ModelsDirectory);
        await File.WriteAllBytesAsync(Path.Combine(home.ModelsDirectory, job.Id + ".safetensors"), new SafetensorsSerializer().SerializeToArray(result.Parameters), cancellationToken).ConfigureAwait(false);
        await FinishAsync(job, run, JobStatus.Succeeded, $"{result.History.Rounds.Count} rounds on {string.Join(", ", accepted)}").ConfigureAwait(false);
    }

    private async Task FinishAsync(JobRecord job, long? run, JobStatus status, string reason)
    {
        DateTimeOffset now = time.GetUtcNow();
        if (run is long id)
        {
            await store.FinishRunAsync(id, status, status == JobStatus.Succeeded ? null : reason, now).ConfigureAwait(false);
        }
        else
        {
            foreach (RunRecord open in (await store.ListRunsAsync(job.Id).ConfigureAwait(false)).Where(r => r.EndedAt is null))
            {
                await store.FinishRunAsync(open.Id, status, reason, now).ConfigureAwait(false);
            }
        }

        await store.TransitionJobAsync(job.Id, status, reason, now, [JobStatus.Queued, JobStatus.Running]).ConfigureAwait(false);
        await store.AppendAuditAsync("coordinator", "job." + status.ToString().ToLowerInvariant(), job.Id, reason, now).ConfigureAwait(false);
        Log.JobEnded(_logger, job.Id, status, reason);
        JobEnded?.Invoke(job.Id, status);
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 5201, Level = LogLevel.Information, Message = "Job {JobId} ended {Status}: {Reason}")]
        public static partial void JobEnded(ILogger logger, string jobId, JobStatus status, string reason);

        [LoggerMessage(EventId = 5203, Level = LogLevel.Warning, Message = "Job {JobId} interrupted by the coordinator stopping; it resumes at the next start")]
        public static partial void JobInterrupted(ILogger logger, string jobId);

        [LoggerMessage(EventId = 5202, Level = LogLevel.Error, Message = "Job {JobId} failed")]
        public static partial void JobFailed(ILogger logger, string jobId, Exception exception);
    }
}
