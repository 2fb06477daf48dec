using System.Data.Common;
using System.Runtime.CompilerServices;

namespace FederatedSharp.Coordinator.Store;

public sealed partial class CoordinatorStore
{
    private const string JobColumns = "id, plan_hash, plan_json, datasets, min_nodes, submitted_by, submitted_ms, status, status_reason, updated_ms";

    /// <summary>Adds a submitted job.</summary>
    /// <param name="job">The job.</param>
    /// <param name="cancellationToken">Cancels the write.</param>
    /// <returns>A task.</returns>
    public Task AddJobAsync(JobRecord job, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(job);
        return ExecuteAsync(
            $"INSERT INTO jobs ({JobColumns}) VALUES (@id, @hash, @plan, @datasets, @min, @by, @at, @status, @reason, @updated)",
            [("id", job.Id), ("hash", job.PlanHash), ("plan", job.PlanJson), ("datasets", StoreText.List(job.Datasets)), ("min", job.MinNodes),
             ("by", job.SubmittedBy), ("at", job.SubmittedAt), ("status", job.Status), ("reason", job.StatusReason), ("updated", job.UpdatedAt)],
            cancellationToken);
    }

    /// <summary>A job by id; null when unknown.</summary>
    /// <param name="id">The job's id.</param>
    /// <param name="cancellationToken">Cancels the query.</param>
    /// <returns>The job, or null.</returns>
    public async Task<JobRecord?> GetJobAsync(string id, CancellationToken cancellationToken = default) =>
        (await QueryAsync($"SELECT {JobColumns} FROM jobs WHERE id = @id", [("id", id)], ReadJob, cancellationToken).ConfigureAwait(false)).SingleOrDefault();

    /// <summary>Jobs, oldest first, optionally only those with one status.</summary>
    /// <param name="status">The status, or null for all.</param>
    /// <param name="cancellationToken">Cancels the query.</param>
    /// <returns>The jobs.</returns>
    public async Task<IReadOnlyList<JobRecord>> ListJobsAsync(JobStatus? status = null, CancellationToken cancellationToken = default) =>
        status is JobStatus s
            ? await QueryAsync($"SELECT {JobColumns} FROM jobs WHERE status = @s ORDER BY submitted_ms, id", [("s", s)], ReadJob, cancellationToken).ConfigureAwait(false)
            : await QueryAsync($"SELECT {JobColumns} FROM jobs ORDER BY submitted_ms, id", [], ReadJob, cancellationToken).ConfigureAwait(false);

    /// <summary>Moves a job to a new status, only from one of the expected ones (so two writers cannot both win).</summary>
    /// <param name="id">The job.</param>
    /// <param name="status">The new status.</param>
    /// <param name="reason">Why, or null.</param>
    /// <param name="at">When.</param>
    /// <param name="expected">The statuses it may move from.</param>
    /// <param name="cancellationToken">Cancels the write.</param>
    /// <returns>Whether the job was in an expected status and moved.</returns>
    public async Task<bool> TransitionJobAsync(string id, JobStatus status, string? reason, DateTimeOffset at, IReadOnlyCollection<JobStatus> expected, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(expected);
        string from = string.Join(", ", expected.Select((_, i) => "@e" + i));
        (string, object?)[] parameters = [("id", id), ("s", status), ("r", reason), ("at", at), .. expected.Select((e, i) => ("e" + i, (object?)e))];
        return await ExecuteAsync($"UPDATE jobs SET status = @s, status_reason = @r, updated_ms = @at WHERE id = @id AND status IN ({from})", parameters, cancellationToken).ConfigureAwait(false) == 1;
    }

    /// <summary>Records (or updates) a node's answer to a job.</summary>
    /// <param name="decision">The answer.</param>
    /// <param name="cancellationToken">Cancels the write.</param>
    /// <returns>A task.</returns>
    public Task RecordNodeDecisionAsync(JobNodeRecord decision, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(decision);
        return ExecuteAsync(
            """
            INSERT INTO job_nodes (job_id, node, decision, reason, dataset, allow_export, decided_ms) VALUES (@j, @n, @d, @r, @ds, @x, @at)
            ON CONFLICT (job_id, node) DO UPDATE SET decision = excluded.decision, reason = excluded.reason, dataset = excluded.dataset,
              allow_export = excluded.allow_export, decided_ms = excluded.decided_ms
            """,
            [("j", decision.JobId), ("n", decision.Node), ("d", decision.Decision), ("r", decision.Reason), ("ds", decision.Dataset), ("x", decision.AllowExport), ("at", decision.DecidedAt)],
            cancellationToken);
    }

    /// <summary>Every node's answer to a job, by node.</summary>
    /// <param name="jobId">The job.</param>
    /// <param name="cancellationToken">Cancels the query.</param>
    /// <returns>The answers.</returns>
    public async Task<IReadOnlyList<JobNodeRecord>> ListNodeDecisionsAsync(string jobId, CancellationToken cancellationToken = default) =>
        await QueryAsync("SELECT job_id, node, decision, reason, dataset, allow_export, decided_ms FROM job_nodes WHERE job_id = @j ORDER BY node", [("j", jobId)],
            r => new JobNodeRecord(r.Text("job_id"), r.Text("node"), StoreText.Enum<NodeDecision>(r.Text("decision")), r.Text("reason"), r.NullableText("dataset"), r.Bool("allow_export"), r.Time("decided_ms")),
            cancellationToken).ConfigureAwait(false);

    /// <summary>Starts a run of a job.</summary>
    /// <param name="jobId">The job.</param>
    /// <param name="at">When.</param>
    /// <param name="cancellationToken">Cancels the write.</param>
    /// <returns>The run's id.</returns>
    public async Task<long> StartRunAsync(string jobId, DateTimeOffset at, CancellationToken cancellationToken = default)
    {
        DbConnection connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using ConfiguredAsyncDisposable connectionDisposal = connection.ConfigureAwait(false);
        return await ScalarAsync<long>(connection, null, "INSERT INTO runs (job_id, started_ms, status) VALUES (@j, @at, @s) RETURNING id",
            [("j", jobId), ("at", at), ("s", JobStatus.Running)], cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Ends a run.</summary>
    /// <param name="runId">The run.</param>
    /// <param name="status">How it ended.</param>
    /// <param name="error">The error, or null.</param>
    /// <param name="at">When.</param>
    /// <param name="cancellationToken">Cancels the write.</param>
    /// <returns>A task.</returns>
    public Task FinishRunAsync(long runId, JobStatus status, string? error, DateTimeOffset at, CancellationToken cancellationToken = default) =>
        ExecuteAsync("UPDATE runs SET status = @s, error = @e, ended_ms = @at WHERE id = @id", [("id", runId), ("s", status), ("e", error), ("at", at)], cancellationToken);

    /// <summary>Keeps a run's cross-site evaluation.</summary>
    /// <param name="runId">The run.</param>
    /// <param name="crossSiteJson">The evaluation (<see cref="RunRecord.CrossSiteJson"/>).</param>
    /// <param name="cancellationToken">Cancels the write.</param>
    /// <returns>A task.</returns>
    public Task SaveCrossSiteAsync(long runId, string crossSiteJson, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(crossSiteJson);
        return ExecuteAsync("UPDATE runs SET cross_site = @c WHERE id = @id", [("id", runId), ("c", crossSiteJson)], cancellationToken);
    }

    /// <summary>A node's most recent answers to jobs, newest first.</summary>
    /// <param name="node">The node.</param>
    /// <param name="limit">How many at most.</param>
    /// <param name="cancellationToken">Cancels the query.</param>
    /// <returns>The answers.</returns>
    public async Task<IReadOnlyList<JobNodeRecord>> ListDecisionsByNodeAsync(string node, int limit, CancellationToken cancellationToken = default) =>
        await QueryAsync("SELECT job_id, node, decision, reason, dataset, allow_export, decided_ms FROM job_nodes WHERE node = @n ORDER BY decided_ms DESC LIMIT @l", [("n", node), ("l", limit)],
            r => new JobNodeRecord(r.Text("job_id"), r.Text("node"), StoreText.Enum<NodeDecision>(r.Text("decision")), r.Text("reason"), r.NullableText("dataset"), r.Bool("allow_export"), r.Time("decided_ms")),
            cancellationToken).ConfigureAwait(false);

    /// <summary>A job's runs, oldest first.</summary>
    /// <param name="jobId">The job.</param>
    /// <param name="cancellationToken">Cancels the query.</param>
    /// <returns>The runs.</returns>
    public async Task<IReadOnlyList<RunRecord>> ListRunsAsync(string jobId, CancellationToken cancellationToken = default) =>
        await QueryAsync("SELECT id, job_id, started_ms, ended_ms, status, error, cross_site FROM runs WHERE job_id = @j ORDER BY id", [("j", jobId)],
            r => new RunRecord(r.Long("id"), r.Text("job_id"), r.Time("started_ms"), r.NullableTime("ended_ms"), StoreText.Enum<JobStatus>(r.Text("status")), r.NullableText("error"))
            {
                CrossSiteJson = r.NullableText("cross_site"),
            },
            cancellationToken).ConfigureAwait(false);

    /// <summary>Records a finished round of a run.</summary>
    /// <param name="round">The round.</param>
    /// <param name="cancellationToken">Cancels the write.</param>
    /// <returns>A task.</returns>
    public Task RecordRoundAsync(RoundRow round, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(round);
        return ExecuteAsync(
            """
            INSERT INTO rounds (run_id, round, succeeded, loss, metrics, participants, failures, duration_ms, recorded_ms, aggregator_metrics, client_metrics)
            VALUES (@r, @n, @ok, @l, @m, @p, @f, @d, @at, @am, @cm)
            """,
            [("r", round.RunId), ("n", round.Round), ("ok", round.Succeeded), ("l", round.Loss), ("m", round.MetricsJson), ("p", StoreText.List(round.Participants)),
             ("f", round.FailuresJson), ("d", (long)round.Duration.TotalMilliseconds), ("at", round.RecordedAt), ("am", round.AggregatorMetricsJson), ("cm", round.ClientMetricsJson)],
            cancellationToken);
    }

    /// <summary>A run's rounds, in order.</summary>
    /// <param name="runId">The run.</param>
    /// <param name="cancellationToken">Cancels the query.</param>
    /// <returns>The rounds.</returns>
    public async Task<IReadOnlyList<RoundRow>> ListRoundsAsync(long runId, CancellationToken cancellationToken = default) =>
        await QueryAsync(
            "SELECT run_id, round, succeeded, loss, metrics, participants, failures, duration_ms, recorded_ms, aggregator_metrics, client_metrics FROM rounds WHERE run_id = @r ORDER BY round", [("r", runId)],
            r => new RoundRow(r.Long("run_id"), (int)r.Long("round"), r.Bool("succeeded"), r.NullableDouble("loss"), r.Text("metrics"), StoreText.List(r.Text("participants")),
                r.Text("failures"), TimeSpan.FromMilliseconds(r.Long("duration_ms")), r.Time("recorded_ms"))
            {
                AggregatorMetricsJson = r.Text("aggregator_metrics"), ClientMetricsJson = r.Text("client_metrics"),
            },
            cancellationToken).ConfigureAwait(false);

    private static JobRecord ReadJob(DbDataReader r) => new()
    {
        Id = r.Text("id"),
        PlanHash = r.Text("plan_hash"),
        PlanJson = r.Text("plan_json"),
        Datasets = StoreText.List(r.Text("datasets")),
        MinNodes = (int)r.Long("min_nodes"),
        SubmittedBy = r.Text("submitted_by"),
        SubmittedAt = r.Time("submitted_ms"),
        Status = StoreText.Enum<JobStatus>(r.Text("status")),
        StatusReason = r.NullableText("status_reason"),
        UpdatedAt = r.Time("updated_ms"),
    };
}
