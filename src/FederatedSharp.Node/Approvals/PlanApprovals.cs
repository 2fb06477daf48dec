using FederatedSharp.Plans;

namespace FederatedSharp.Node;

/// <summary>Where a plan stands at a site.</summary>
public enum ApprovalStatus
{
    /// <summary>Received, not yet decided: it runs nowhere at this site.</summary>
    Pending,

    /// <summary>Approved by the site for the listed datasets.</summary>
    Approved,

    /// <summary>Rejected by the site; its jobs are refused.</summary>
    Rejected,
}

/// <summary>A site's record of one plan.</summary>
public sealed class PlanApproval
{
    /// <summary>The plan's hash.</summary>
    public required string Hash { get; init; }

    /// <summary>The plan's name and version, for people.</summary>
    public required string Title { get; init; }

    /// <summary>Where it stands.</summary>
    public ApprovalStatus Status { get; set; }

    /// <summary>The datasets it may read once approved.</summary>
    public List<string> Datasets { get; set; } = [];

    /// <summary>The datasets the first job that brought it asked for.</summary>
    public List<string> RequestedDatasets { get; set; } = [];

    /// <summary>Who submitted the job that brought it, and which job.</summary>
    public string? RequestedBy { get; set; }

    /// <summary>When it arrived.</summary>
    public DateTimeOffset ReceivedAt { get; set; }

    /// <summary>Who decided, when, and why (null while pending).</summary>
    public string? DecidedBy { get; set; }

    /// <summary>When it was decided.</summary>
    public DateTimeOffset? DecidedAt { get; set; }

    /// <summary>The approver's note or the rejection's reason.</summary>
    public string? Note { get; set; }
}

/// <summary>
/// The site's approvals of plans by hash, in <c>approvals.json</c>, with each plan's JSON kept in <c>plans/HASH.json</c>
/// so the approver reads exactly what runs. A plan whose hash is not approved runs nowhere here.
/// </summary>
public sealed class PlanApprovals
{
    private readonly string _file;
    private readonly string _plans;
    private readonly TimeProvider _time;

    /// <summary>Opens the approvals.</summary>
    /// <param name="file">The approvals file.</param>
    /// <param name="plansDirectory">Where plans are kept.</param>
    /// <param name="timeProvider">The clock.</param>
    public PlanApprovals(string file, string plansDirectory, TimeProvider timeProvider)
    {
        ArgumentException.ThrowIfNullOrEmpty(file);
        ArgumentException.ThrowIfNullOrEmpty(plansDirectory);
        ArgumentNullException.ThrowIfNull(timeProvider);
        _file = file;
        _plans = plansDirectory;
        _time = timeProvider;
    }

    /// <summary>Every plan the site knows, newest first.</summary>
    /// <returns>The records.</returns>
    public IReadOnlyList<PlanApproval> List() => Read().Values.OrderByDescending(a => a.ReceivedAt).ThenBy(a => a.Hash, StringComparer.Ordinal).ToArray();

    /// <summary>The plans waiting for a decision.</summary>
    /// <returns>The records.</returns>
    public IReadOnlyList<PlanApproval> Pending() => List().Where(a => a.Status == ApprovalStatus.Pending).ToArray();

    /// <summary>A plan's record by its hash or a unique prefix of it (at least 8 digits); null when unknown.</summary>
    /// <param name="hash">The hash or prefix.</param>
    /// <returns>The record, or null.</returns>
    /// <exception cref="ArgumentException">The prefix is shorter than 8 digits or matches several plans.</exception>
    public PlanApproval? Find(string hash)
    {
        ArgumentException.ThrowIfNullOrEmpty(hash);
        if (hash.Length < 8)
        {
            throw new ArgumentException("Give at least 8 digits of the plan's hash.", nameof(hash));
        }

        PlanApproval[] matches = Read().Values.Where(a => a.Hash.StartsWith(hash, StringComparison.OrdinalIgnoreCase)).ToArray();
        return matches.Length switch
        {
            0 => null,
            1 => matches[0],
            _ => throw new ArgumentException($"'{hash}' matches {matches.Length} plans; give more digits.", nameof(hash)),
        };
    }

    /// <summary>The plan kept for a record.</summary>
    /// <param name="hash">The plan's full hash.</param>
    /// <returns>The plan.</returns>
    /// <exception cref="KeyNotFoundException">The plan is not kept here.</exception>
    public TrainingPlan LoadPlan(string hash)
    {
        string path = Path.Combine(_plans, hash + ".json");
        if (!File.Exists(path))
        {
            throw new KeyNotFoundException($"This node keeps no plan {hash}.");
        }

        TrainingPlan plan = TrainingPlan.Load(path);
        return plan.Hash == hash ? plan : throw new InvalidDataException($"{path} no longer has hash {hash}: it was changed on disk.");
    }

    /// <summary>Records a plan as pending unless the site already knows it; returns its record.</summary>
    /// <param name="plan">The plan.</param>
    /// <param name="requestedDatasets">The datasets the job asks for.</param>
    /// <param name="requestedBy">Who asked (the researcher and job).</param>
    /// <returns>The record (its status unchanged when known).</returns>
    public PlanApproval Receive(TrainingPlan plan, IReadOnlyList<string> requestedDatasets, string? requestedBy)
    {
        ArgumentNullException.ThrowIfNull(plan);
        ArgumentNullException.ThrowIfNull(requestedDatasets);
        Dictionary<string, PlanApproval> all = Read();
        if (all.TryGetValue(plan.Hash, out PlanApproval? known))
        {
            return known;
        }

        Directory.CreateDirectory(_plans);
        File.WriteAllText(Path.Combine(_plans, plan.Hash + ".json"), plan.Json);
        var record = new PlanApproval
        {
            Hash = plan.Hash,
            Title = $"{plan.Name} {plan.Version}",
            Status = ApprovalStatus.Pending,
            RequestedDatasets = [.. requestedDatasets],
            RequestedBy = requestedBy,
            ReceivedAt = _time.GetUtcNow(),
        };
        all[plan.Hash] = record;
        NodeJson.Write(_file, all);
        return record;
    }

    /// <summary>Approves a plan for datasets.</summary>
    /// <param name="hash">The plan's hash or a unique prefix.</param>
    /// <param name="datasets">The datasets it may read; null for those its job asked for.</param>
    /// <param name="by">Who approves.</param>
    /// <param name="note">Why, for the record.</param>
    /// <returns>The updated record.</returns>
    /// <exception cref="KeyNotFoundException">The site does not know the plan.</exception>
    public PlanApproval Approve(string hash, IReadOnlyList<string>? datasets, string by, string? note = null) =>
        Decide(hash, ApprovalStatus.Approved, by, note, datasets);

    /// <summary>Rejects a plan.</summary>
    /// <param name="hash">The plan's hash or a unique prefix.</param>
    /// <param name="by">Who rejects.</param>
    /// <param name="reason">Why.</param>
    /// <returns>The updated record.</returns>
    /// <exception cref="KeyNotFoundException">The site does not know the plan.</exception>
    public PlanApproval Reject(string hash, string by, string reason) => Decide(hash, ApprovalStatus.Rejected, by, reason, null);

    private PlanApproval Decide(string hash, ApprovalStatus status, string by, string? note, IReadOnlyList<string>? datasets)
    {
        ArgumentException.ThrowIfNullOrEmpty(by);
        PlanApproval record = Find(hash) ?? throw new KeyNotFoundException($"This node knows no plan {hash}; a plan arrives with a job, or with `fedsharp node plans add FILE`.");
        Dictionary<string, PlanApproval> all = Read();
        record = all[record.Hash];
        record.Status = status;
        record.Datasets = status == ApprovalStatus.Approved ? [.. datasets ?? record.RequestedDatasets] : [];
        record.DecidedBy = by;
        record.DecidedAt = _time.GetUtcNow();
        record.Note = note;
        NodeJson.Write(_file, all);
        return record;
    }

    private Dictionary<string, PlanApproval> Read() => NodeJson.Read(_file, () => new Dictionary<string, PlanApproval>(StringComparer.Ordinal));
}
