using System.Security.Cryptography;
using FederatedSharp.Coordinator.Store;
using FederatedSharp.Plans;

namespace FederatedSharp.Coordinator.Jobs;

/// <summary>What people do to jobs, the same whether they use the API, the CLI or the dashboard.</summary>
internal sealed class JobCommands(CoordinatorStore store, JobRunner runner, TimeProvider time)
{
    /// <summary>Submits a plan as a job, or says why it cannot be.</summary>
    public async Task<JobCommandResult> SubmitAsync(string principal, string planJson, IReadOnlyList<string>? datasets, int? minNodes, CancellationToken cancellationToken)
    {
        TrainingPlan plan;
        try
        {
            plan = TrainingPlan.Parse(planJson);
        }
        catch (PlanValidationException e)
        {
            return JobCommandResult.Invalid(e.Message, e.Errors.Select(x => (x.Path, x.Message)).ToArray());
        }

        string[] names = datasets?.Select(d => d.Trim()).Where(d => d.Length > 0).Distinct(StringComparer.Ordinal).ToArray() ?? [];
        if (names.Length == 0 || minNodes is < 1)
        {
            return JobCommandResult.Invalid("a job needs at least one dataset name and minNodes >= 1", []);
        }

        DateTimeOffset now = time.GetUtcNow();
        string id = $"job-{now:yyyyMMdd-HHmmss}-{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(3))}";
        var job = new JobRecord
        {
            Id = id, PlanHash = plan.Hash, PlanJson = plan.Json, Datasets = names, MinNodes = minNodes ?? plan.Federation.MinClients,
            SubmittedBy = principal, SubmittedAt = now, Status = JobStatus.Queued, UpdatedAt = now,
        };
        await store.AddJobAsync(job, cancellationToken).ConfigureAwait(false);
        await store.AppendAuditAsync(principal, "job.submitted", id, $"plan {plan.Hash[..12]} ({plan.Name}) on {string.Join(", ", names)}, at least {job.MinNodes} node(s)", now, cancellationToken).ConfigureAwait(false);
        runner.Wake();
        return JobCommandResult.Done(job);
    }

    /// <summary>Cancels a job: an admin any job, a researcher only their own, a viewer none.</summary>
    public async Task<JobCommandResult> CancelAsync(string principal, Role role, string id, CancellationToken cancellationToken)
    {
        JobRecord? job = await store.GetJobAsync(id, cancellationToken).ConfigureAwait(false);
        if (job is null)
        {
            return JobCommandResult.NotFound($"no job '{id}'");
        }

        if (role is not (Role.Admin or Role.Researcher))
        {
            return JobCommandResult.Forbidden($"a {StoreText.Of(role)} may not cancel jobs");
        }

        if (role != Role.Admin && job.SubmittedBy != principal)
        {
            return JobCommandResult.Forbidden($"job '{id}' is {job.SubmittedBy}'s; a researcher cancels only their own jobs");
        }

        bool moved = await store.TransitionJobAsync(id, JobStatus.Cancelled, "cancelled by " + principal, time.GetUtcNow(), [JobStatus.Queued, JobStatus.Running], cancellationToken).ConfigureAwait(false);
        if (!moved)
        {
            return JobCommandResult.Conflict($"job '{id}' is already {StoreText.Of(job.Status)}");
        }

        runner.Cancel(id);
        await store.AppendAuditAsync(principal, "job.cancel_requested", id, "", time.GetUtcNow(), cancellationToken).ConfigureAwait(false);
        return JobCommandResult.Done(job with { Status = JobStatus.Cancelled });
    }
}

/// <summary>How a job command went.</summary>
internal enum JobCommandOutcome
{
    Done,
    Invalid,
    NotFound,
    Forbidden,
    Conflict,
}

/// <summary>A job command's outcome: the job, or the error and, for a bad plan, each error's JSON path.</summary>
internal sealed record JobCommandResult(JobCommandOutcome Outcome, JobRecord? Job, string? Error, IReadOnlyList<(string Path, string Message)> Errors)
{
    public static JobCommandResult Done(JobRecord job) => new(JobCommandOutcome.Done, job, null, []);

    public static JobCommandResult Invalid(string error, IReadOnlyList<(string, string)> errors) => new(JobCommandOutcome.Invalid, null, error, errors);

    public static JobCommandResult NotFound(string error) => new(JobCommandOutcome.NotFound, null, error, []);

    public static JobCommandResult Forbidden(string error) => new(JobCommandOutcome.Forbidden, null, error, []);

    public static JobCommandResult Conflict(string error) => new(JobCommandOutcome.Conflict, null, error, []);

    /// <summary>The HTTP status the outcome maps to.</summary>
    public int StatusCode => Outcome switch
    {
        JobCommandOutcome.Done => 200,
        JobCommandOutcome.Invalid => 400,
        JobCommandOutcome.NotFound => 404,
        JobCommandOutcome.Forbidden => 403,
        _ => 409,
    };
}
