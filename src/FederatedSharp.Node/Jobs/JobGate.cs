using FederatedSharp.Analytics;
using FederatedSharp.Plans;
using Microsoft.Extensions.Logging;

namespace FederatedSharp.Node;

/// <summary>
/// Decides every job against the site's approvals and policy, before anything runs: the plan must parse, its hash
/// must be approved for the dataset, the site's privacy policy must allow it, and the dataset must fit its schema.
/// Every decision goes to the node's audit log. An accepted job comes with its <see cref="PlanClient"/>.
/// </summary>
public sealed partial class JobGate
{
    private readonly NodeHome _home;
    private readonly ILogger _logger;

    /// <summary>Creates the gate.</summary>
    /// <param name="home">The node's home.</param>
    /// <param name="logger">The logger; null for none.</param>
    public JobGate(NodeHome home, ILogger<JobGate>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(home);
        _home = home;
        _logger = (ILogger?)logger ?? Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance;
    }

    /// <summary>Decides a job, records the decision, and compiles the plan's client when it is accepted.</summary>
    /// <param name="offer">The job.</param>
    /// <param name="cancellationToken">Cancels the decision.</param>
    /// <returns>The decision, and the client to run when accepted (the caller disposes it).</returns>
    public async Task<(JobDecision Decision, PlanClient? Client)> DecideAsync(JobOffer offer, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(offer);
        (JobDecision decision, PlanClient? client) = Decide(offer);
        string kind = decision.Outcome switch
        {
            JobOutcome.Accepted => "job_accepted",
            JobOutcome.PendingApproval => "job_pending",
            _ => "job_refused",
        };
        try
        {
            await _home.Audit.AppendAsync(kind, offer.JobId, decision.PlanHash, decision.Dataset, offer.Researcher, decision.Reason, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            client?.Dispose();
            throw;
        }

        Log.Decided(_logger, offer.JobId, decision.Outcome, decision.PlanHash ?? "-", decision.Reason);
        return (decision, client);
    }

    private (JobDecision, PlanClient?) Decide(JobOffer offer)
    {
        SitePolicy policy = _home.LoadPolicy();
        JobDecision Answer(JobOutcome outcome, string reason, string? hash, string? dataset = null) =>
            new(offer.JobId, outcome, reason, hash, dataset, policy.AllowExport);

        TrainingPlan plan;
        try
        {
            plan = TrainingPlan.Parse(offer.PlanJson);
        }
        catch (PlanValidationException e)
        {
            return (Answer(JobOutcome.Refused, e.Message, null), null);
        }

        PlanApproval approval = _home.Approvals.Receive(plan, offer.Datasets, $"{offer.Researcher} (job {offer.JobId})");
        switch (approval.Status)
        {
            case ApprovalStatus.Rejected:
                return (Answer(JobOutcome.Refused, $"plan {plan.Hash[..12]} was rejected at this site by {approval.DecidedBy} on {approval.DecidedAt:yyyy-MM-dd}: {approval.Note}", plan.Hash), null);
            case ApprovalStatus.Pending:
                return (Answer(JobOutcome.PendingApproval, $"pending approval: plan {plan.Hash[..12]} has not been approved at this site (fedsharp node plans approve {plan.Hash[..12]})", plan.Hash), null);
        }

        string? dataset = offer.Datasets.FirstOrDefault(d => _home.Datasets.Find(d) is not null);
        if (dataset is null)
        {
            return (Answer(JobOutcome.Refused, $"this site has no dataset named {string.Join(" or ", offer.Datasets.Select(d => "'" + d + "'"))}", plan.Hash), null);
        }

        if (!approval.Datasets.Contains(dataset, StringComparer.Ordinal))
        {
            return (Answer(JobOutcome.Refused, $"plan {plan.Hash[..12]} is approved at this site for {(approval.Datasets.Count == 0 ? "no dataset" : string.Join(", ", approval.Datasets))}, not for '{dataset}'", plan.Hash, dataset), null);
        }

        return Compile(plan, dataset, policy, Answer);
    }

    private (JobDecision, PlanClient?) Compile(TrainingPlan plan, string dataset, SitePolicy policy, Func<JobOutcome, string, string?, string?, JobDecision> answer)
    {
        PlanClient client;
        try
        {
            TabularDataset table = _home.Datasets.Load(dataset);
            client = new PlanClient(plan, _home.Identity.Name, table, new DisclosurePolicy { MinimumCount = policy.MinimumCount });
        }
        catch (Exception e) when (e is PlanDataException or InvalidDataException or IOException)
        {
            return (answer(JobOutcome.Refused, $"the dataset '{dataset}' does not fit plan {plan.Hash[..12]}: {e.Message}", plan.Hash, dataset), null);
        }

        if (policy.Refusal(plan, client.TrainCount) is { } refusal)
        {
            client.Dispose();
            return (answer(JobOutcome.Refused, refusal, plan.Hash, dataset), null);
        }

        return (answer(JobOutcome.Accepted, $"plan {plan.Hash[..12]} approved for '{dataset}' ({client.TrainCount} training rows, {client.TestCount} test rows)", plan.Hash, dataset), client);
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 5101, Level = LogLevel.Information, Message = "Job {JobId}: {Outcome} (plan {PlanHash}): {Reason}")]
        public static partial void Decided(ILogger logger, string jobId, JobOutcome outcome, string planHash, string reason);
    }
}
