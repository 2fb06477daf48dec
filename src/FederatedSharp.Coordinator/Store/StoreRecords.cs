namespace FederatedSharp.Coordinator.Store;

/// <summary>Who a principal is to the coordinator.</summary>
public enum Role
{
    /// <summary>Approves enrolments, revokes nodes, manages tokens.</summary>
    Admin,

    /// <summary>Submits, watches, cancels and downloads their own jobs.</summary>
    Researcher,

    /// <summary>Looks only.</summary>
    Viewer,

    /// <summary>A site's node.</summary>
    Node,
}

/// <summary>Where a node stands in the registry.</summary>
public enum NodeStatus
{
    /// <summary>It sent a certificate signing request with a valid one-time token; an admin has not approved it yet.</summary>
    PendingEnrolment,

    /// <summary>Enrolled: its certificate is issued and it may connect.</summary>
    Active,

    /// <summary>Revoked: refused at its next connection, its live session ended.</summary>
    Revoked,
}

/// <summary>A node in the registry.</summary>
public sealed record NodeRecord
{
    /// <summary>The node's name (its certificate's subject).</summary>
    public required string Name { get; init; }

    /// <summary>Where it stands.</summary>
    public required NodeStatus Status { get; init; }

    /// <summary>The PEM certificate signing request it enrolled with (public key only).</summary>
    public string? CertificateRequestPem { get; init; }

    /// <summary>The PEM certificate issued to it, once approved.</summary>
    public string? CertificatePem { get; init; }

    /// <summary>The issued certificate's SHA-256 thumbprint, which a connection must present.</summary>
    public string? Thumbprint { get; init; }

    /// <summary>When it asked to enrol.</summary>
    public required DateTimeOffset RequestedAt { get; init; }

    /// <summary>When it was approved.</summary>
    public DateTimeOffset? EnrolledAt { get; init; }

    /// <summary>When it was revoked, and why.</summary>
    public DateTimeOffset? RevokedAt { get; init; }

    /// <summary>Why it was revoked.</summary>
    public string? RevokedReason { get; init; }

    /// <summary>Its last heartbeat.</summary>
    public DateTimeOffset? LastSeen { get; init; }

    /// <summary>The policy summary it last reported (JSON), for the dashboard.</summary>
    public string? PolicySummary { get; init; }
}

/// <summary>An API token: only its SHA-256 is stored.</summary>
/// <param name="Hash">The token's SHA-256, hex.</param>
/// <param name="Principal">Whom it authenticates.</param>
/// <param name="Role">Their role.</param>
/// <param name="CreatedAt">When it was issued.</param>
/// <param name="ExpiresAt">When it stops working.</param>
/// <param name="RevokedAt">When it was revoked, or null.</param>
public sealed record ApiTokenRecord(string Hash, string Principal, Role Role, DateTimeOffset CreatedAt, DateTimeOffset ExpiresAt, DateTimeOffset? RevokedAt);

/// <summary>A one-time enrolment token for a node: only its SHA-256 is stored.</summary>
/// <param name="Hash">The token's SHA-256, hex.</param>
/// <param name="Node">The node it is for.</param>
/// <param name="CreatedAt">When it was issued.</param>
/// <param name="ExpiresAt">When it stops working.</param>
/// <param name="UsedAt">When it was used, or null.</param>
public sealed record EnrolmentTokenRecord(string Hash, string Node, DateTimeOffset CreatedAt, DateTimeOffset ExpiresAt, DateTimeOffset? UsedAt);

/// <summary>Where a job stands.</summary>
public enum JobStatus
{
    /// <summary>Submitted, waiting for enough nodes to accept it.</summary>
    Queued,

    /// <summary>Training.</summary>
    Running,

    /// <summary>Finished every round.</summary>
    Succeeded,

    /// <summary>Stopped by an error.</summary>
    Failed,

    /// <summary>Cancelled by its researcher or an admin.</summary>
    Cancelled,
}

/// <summary>A submitted job.</summary>
public sealed record JobRecord
{
    /// <summary>The job's id.</summary>
    public required string Id { get; init; }

    /// <summary>The plan's hash.</summary>
    public required string PlanHash { get; init; }

    /// <summary>The plan as submitted.</summary>
    public required string PlanJson { get; init; }

    /// <summary>The dataset names it may use.</summary>
    public required IReadOnlyList<string> Datasets { get; init; }

    /// <summary>The fewest accepting nodes it needs to start.</summary>
    public required int MinNodes { get; init; }

    /// <summary>Who submitted it.</summary>
    public required string SubmittedBy { get; init; }

    /// <summary>When.</summary>
    public required DateTimeOffset SubmittedAt { get; init; }

    /// <summary>Where it stands.</summary>
    public required JobStatus Status { get; init; }

    /// <summary>Why it stands there (a failure's error, a cancellation's author).</summary>
    public string? StatusReason { get; init; }

    /// <summary>When its status last changed.</summary>
    public required DateTimeOffset UpdatedAt { get; init; }
}

/// <summary>How a node answered a job.</summary>
public enum NodeDecision
{
    /// <summary>It runs the job.</summary>
    Accepted,

    /// <summary>Its site has not approved the plan yet.</summary>
    PendingApproval,

    /// <summary>It refused, with a reason.</summary>
    Refused,
}

/// <summary>A node's answer to a job.</summary>
/// <param name="JobId">The job.</param>
/// <param name="Node">The node.</param>
/// <param name="Decision">Accepted, pending approval, or refused.</param>
/// <param name="Reason">The node's reason.</param>
/// <param name="Dataset">The dataset it runs on, when accepted.</param>
/// <param name="AllowExport">Whether the site's policy allows downloading the job's model.</param>
/// <param name="DecidedAt">When it answered.</param>
public sealed record JobNodeRecord(string JobId, string Node, NodeDecision Decision, string Reason, string? Dataset, bool AllowExport, DateTimeOffset DecidedAt);

/// <summary>One attempt at running a job (a restarted coordinator resumes in a new run).</summary>
/// <param name="Id">The run's id.</param>
/// <param name="JobId">The job.</param>
/// <param name="StartedAt">When it started.</param>
/// <param name="EndedAt">When it ended, or null while it runs.</param>
/// <param name="Status">Running, succeeded, failed or cancelled.</param>
/// <param name="Error">The error that ended it, or null.</param>
public sealed record RunRecord(long Id, string JobId, DateTimeOffset StartedAt, DateTimeOffset? EndedAt, JobStatus Status, string? Error)
{
    /// <summary>The cross-site evaluation of the run's final models, when the plan asked for one: JSON with <c>models</c>, <c>sites</c>, <c>metric</c> and <c>values</c>.</summary>
    public string? CrossSiteJson { get; init; }
}

/// <summary>One round of a run, as the round engine reported it.</summary>
/// <param name="RunId">The run.</param>
/// <param name="Round">The round number.</param>
/// <param name="Succeeded">Whether it produced a new model.</param>
/// <param name="Loss">The federated evaluation loss, when evaluated.</param>
/// <param name="MetricsJson">The aggregated metrics, as a JSON object of numbers.</param>
/// <param name="Participants">The nodes whose updates were aggregated.</param>
/// <param name="FailuresJson">Each failed node and why, as a JSON array.</param>
/// <param name="Duration">How long it took.</param>
/// <param name="RecordedAt">When it was recorded.</param>
public sealed record RoundRow(long RunId, int Round, bool Succeeded, double? Loss, string MetricsJson, IReadOnlyList<string> Participants, string FailuresJson, TimeSpan Duration, DateTimeOffset RecordedAt)
{
    /// <summary>The aggregator's figures for the round (for example central DP's <c>dp_epsilon</c>), as a JSON object of numbers.</summary>
    public string AggregatorMetricsJson { get; init; } = "{}";

    /// <summary>Each node's numeric fit metrics (for example DP-SGD's <c>dpsgd_epsilon</c>), as a JSON object of objects by node.</summary>
    public string ClientMetricsJson { get; init; } = "{}";
}

/// <summary>One entry of the coordinator's hash-chained audit trail.</summary>
/// <param name="Sequence">Its position, from 0.</param>
/// <param name="Time">When.</param>
/// <param name="Actor">Who (a principal, a node, or <c>coordinator</c>).</param>
/// <param name="Action">What, for example <c>job.submitted</c>, <c>node.revoked</c>, <c>model.downloaded</c>.</param>
/// <param name="Subject">On what (a job id, a node's name).</param>
/// <param name="Detail">More, or empty.</param>
/// <param name="PreviousHash">The hash of the entry before.</param>
/// <param name="Hash">The SHA-256 of this entry's canonical text, which includes <paramref name="PreviousHash"/>.</param>
public sealed record CoordinatorAuditRecord(long Sequence, DateTimeOffset Time, string Actor, string Action, string Subject, string Detail, string PreviousHash, string Hash);
