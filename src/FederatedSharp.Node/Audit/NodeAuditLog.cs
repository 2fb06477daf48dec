using System.Globalization;
using System.Text.Json;
using FederatedSharp.Server.Audit;

namespace FederatedSharp.Node;

/// <summary>One decision or action a node recorded.</summary>
/// <param name="Sequence">Its position in the log.</param>
/// <param name="Time">When.</param>
/// <param name="Kind">What: <c>job_accepted</c>, <c>job_refused</c>, <c>job_pending</c>, <c>plan_approved</c>, <c>plan_rejected</c>, <c>dataset_registered</c>, <c>policy_changed</c>, <c>run_finished</c>, <c>run_failed</c>.</param>
/// <param name="Job">The job, when there is one.</param>
/// <param name="Plan">The plan's hash, when there is one.</param>
/// <param name="Dataset">The dataset, when there is one.</param>
/// <param name="Actor">Who: the approver, or the researcher whose job it was.</param>
/// <param name="Detail">Why, or what changed.</param>
/// <param name="Hash">The record's hash in the chain.</param>
public sealed record NodeEvent(long Sequence, DateTimeOffset Time, string Kind, string? Job, string? Plan, string? Dataset, string? Actor, string? Detail, string Hash);

/// <summary>The node's own hash-chained record of every decision it takes (<c>audit.log</c> in its home).</summary>
public sealed class NodeAuditLog
{
    private readonly HashChainFile _chain;
    private readonly TimeProvider _time;

    /// <summary>Opens (or will create) the log.</summary>
    /// <param name="path">The file.</param>
    /// <param name="timeProvider">The clock.</param>
    public NodeAuditLog(string path, TimeProvider timeProvider)
    {
        ArgumentNullException.ThrowIfNull(timeProvider);
        _chain = new HashChainFile(path);
        _time = timeProvider;
    }

    /// <summary>The log file.</summary>
    public string Path => _chain.Path;

    /// <summary>Appends an event.</summary>
    /// <param name="kind">What happened.</param>
    /// <param name="job">The job, or null.</param>
    /// <param name="plan">The plan's hash, or null.</param>
    /// <param name="dataset">The dataset, or null.</param>
    /// <param name="actor">Who, or null.</param>
    /// <param name="detail">Why, or null.</param>
    /// <param name="cancellationToken">Cancels the write.</param>
    /// <returns>The event as recorded.</returns>
    /// <exception cref="AuditLogException">The log on disk is tampered with: the node refuses to extend it.</exception>
    public async Task<NodeEvent> AppendAsync(string kind, string? job, string? plan, string? dataset, string? actor, string? detail, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(kind);
        DateTimeOffset time = _time.GetUtcNow();
        (long sequence, _, string hash) = await _chain.AppendAsync(
            w =>
            {
                w.WriteString("time", time.ToString("O", CultureInfo.InvariantCulture));
                w.WriteString("kind", kind);
                WriteOptional(w, "job", job);
                WriteOptional(w, "plan", plan);
                WriteOptional(w, "dataset", dataset);
                WriteOptional(w, "actor", actor);
                WriteOptional(w, "detail", detail);
            },
            cancellationToken).ConfigureAwait(false);
        return new NodeEvent(sequence, time, kind, job, plan, dataset, actor, detail, hash);
    }

    /// <summary>Checks the log's chain.</summary>
    /// <returns>Whether it is intact, and where it breaks.</returns>
    public AuditVerification Verify() => HashChainFile.Verify(Path);

    /// <summary>Every event, checking the chain.</summary>
    /// <returns>The events.</returns>
    /// <exception cref="AuditLogException">The log is tampered with (the message says where).</exception>
    public IReadOnlyList<NodeEvent> ReadAll()
    {
        var events = new List<NodeEvent>();
        AuditVerification result = HashChainFile.Verify(Path, (r, sequence, _, hash) => events.Add(new NodeEvent(
            sequence,
            DateTimeOffset.Parse(r.GetProperty("time").GetString()!, CultureInfo.InvariantCulture),
            r.GetProperty("kind").GetString()!,
            Optional(r, "job"),
            Optional(r, "plan"),
            Optional(r, "dataset"),
            Optional(r, "actor"),
            Optional(r, "detail"),
            hash)));
        return result.IsValid ? events : throw new AuditLogException(result.Problem!);
    }

    private static void WriteOptional(Utf8JsonWriter w, string name, string? value)
    {
        if (value is not null)
        {
            w.WriteString(name, value);
        }
    }

    private static string? Optional(JsonElement record, string name) => record.TryGetProperty(name, out JsonElement value) ? value.GetString() : null;
}
