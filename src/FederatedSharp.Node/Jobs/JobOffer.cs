namespace FederatedSharp.Node;

/// <summary>A job the coordinator offers a node: a plan to run on one of the named datasets.</summary>
/// <param name="JobId">The coordinator's job id.</param>
/// <param name="PlanJson">The plan's JSON, exactly as submitted; the node hashes it itself.</param>
/// <param name="Datasets">The dataset names the job may use; the node uses the first it has registered.</param>
/// <param name="Researcher">Who submitted the job.</param>
public sealed record JobOffer(string JobId, string PlanJson, IReadOnlyList<string> Datasets, string Researcher);

/// <summary>How a node answers a job.</summary>
public enum JobOutcome
{
    /// <summary>The node runs the job.</summary>
    Accepted,

    /// <summary>The plan waits for the site's approval; nothing runs.</summary>
    PendingApproval,

    /// <summary>The node will not run the job; the reason says why.</summary>
    Refused,
}

/// <summary>A node's answer to a job, as recorded in its audit log and sent to the coordinator.</summary>
/// <param name="JobId">The job.</param>
/// <param name="Outcome">Accepted, pending approval, or refused.</param>
/// <param name="Reason">Why (for every outcome).</param>
/// <param name="PlanHash">The plan's hash as the node computed it; null when the plan does not parse.</param>
/// <param name="Dataset">The dataset the job runs on when accepted.</param>
/// <param name="AllowExport">Whether this site's policy lets the job's final model be downloaded.</param>
public sealed record JobDecision(string JobId, JobOutcome Outcome, string Reason, string? PlanHash, string? Dataset, bool AllowExport);
