using System.Text.Json;

namespace FederatedSharp.Server.Audit;

/// <summary>
/// An append-only audit log in a file, one JSON object per line: <c>{"record":{...},"hash":"..."}</c>. Each record holds
/// the hash of the one before (<c>prev</c>), and its hash is the SHA-256 of the record's exact text, so changing, removing,
/// reordering or inserting any record breaks the chain at that point; <see cref="Verify"/> finds it. Appends are
/// flushed to disk before <see cref="AppendAsync"/> returns. A log that is reopened continues the chain after
/// verifying it, and refuses to append to a broken one. Removing records at the end cannot be seen from the file alone:
/// keep <see cref="LastHash"/> somewhere else too (a ticket, a signed e-mail, the next checkpoint) to anchor it.
/// </summary>
public sealed class FileAuditLog : IAuditLog
{
    /// <summary>The previous hash of the first record.</summary>
    public const string GenesisHash = HashChainFile.GenesisHash;

    private readonly HashChainFile _chain;

    /// <summary>Opens (or will create) the log at <paramref name="path"/>.</summary>
    /// <param name="path">The file.</param>
    public FileAuditLog(string path) => _chain = new HashChainFile(path);

    /// <summary>The hash of the last record written or read (the genesis hash for an empty log).</summary>
    public string LastHash => _chain.LastHash;

    /// <inheritdoc />
    /// <exception cref="AuditLogException">The existing log is tampered with or corrupt.</exception>
    public async Task<AuditRecord> AppendAsync(AuditEntry entry, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(entry);
        (long sequence, string previous, string hash) = await _chain.AppendAsync(w => WriteEntry(w, entry), cancellationToken).ConfigureAwait(false);
        return new AuditRecord(sequence, entry, previous, hash);
    }

    /// <summary>Reads every record of a log, checking the chain as it goes.</summary>
    /// <param name="path">The log file.</param>
    /// <returns>The records.</returns>
    /// <exception cref="AuditLogException">The log is tampered with or corrupt (the message says where).</exception>
    public static IReadOnlyList<AuditRecord> ReadAll(string path)
    {
        var records = new List<AuditRecord>();
        AuditVerification result = HashChainFile.Verify(path, (record, sequence, previous, hash) => records.Add(new AuditRecord(sequence, ParseEntry(record), previous, hash)));
        return result.IsValid ? records : throw new AuditLogException(result.Problem!);
    }

    /// <summary>Checks a log's hash chain without throwing.</summary>
    /// <param name="path">The log file (a missing file is an empty, valid log).</param>
    /// <returns>Whether it is intact, how many records it has, and where it breaks.</returns>
    public static AuditVerification Verify(string path) => HashChainFile.Verify(path, (record, _, _, _) => ParseEntry(record));

    private static void WriteEntry(Utf8JsonWriter w, AuditEntry entry)
    {
        w.WriteNumber("round", entry.Round);
        w.WriteString("time", entry.Timestamp.ToUniversalTime().ToString("O", System.Globalization.CultureInfo.InvariantCulture));
        w.WriteString("model_sha256", entry.ModelSha256);
        w.WriteString("strategy", entry.Strategy);
        w.WriteString("configuration", entry.ConfigurationHash);
        w.WriteStartArray("participants");
        foreach (string id in entry.Participants)
        {
            w.WriteStringValue(id);
        }

        w.WriteEndArray();
        w.WriteStartArray("rejected");
        foreach (AuditRejection r in entry.Rejected)
        {
            w.WriteStartObject();
            w.WriteString("client", r.ClientId);
            w.WriteString("phase", r.Phase);
            w.WriteString("kind", r.Kind);
            w.WriteString("reason", r.Reason);
            w.WriteEndObject();
        }

        w.WriteEndArray();
        w.WriteStartObject("parameters");
        foreach (KeyValuePair<string, string> p in entry.StrategyParameters.OrderBy(p => p.Key, StringComparer.Ordinal))
        {
            w.WriteString(p.Key, p.Value);
        }

        w.WriteEndObject();
        if (entry.EpsilonSoFar is double epsilon)
        {
            w.WriteNumber("epsilon", epsilon);
        }
        else
        {
            w.WriteNull("epsilon");
        }
    }

    private static AuditEntry ParseEntry(JsonElement record) => new()
    {
        Round = record.GetProperty("round").GetInt32(),
        Timestamp = DateTimeOffset.Parse(record.GetProperty("time").GetString()!, System.Globalization.CultureInfo.InvariantCulture),
        ModelSha256 = record.GetProperty("model_sha256").GetString()!,
        Strategy = record.GetProperty("strategy").GetString()!,
        ConfigurationHash = record.GetProperty("configuration").GetString()!,
        Participants = record.GetProperty("participants").EnumerateArray().Select(e => e.GetString()!).ToArray(),
        Rejected = record.GetProperty("rejected").EnumerateArray()
            .Select(e => new AuditRejection(e.GetProperty("client").GetString()!, e.GetProperty("phase").GetString()!, e.GetProperty("kind").GetString()!, e.GetProperty("reason").GetString()!))
            .ToArray(),
        StrategyParameters = record.GetProperty("parameters").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString()!, StringComparer.Ordinal),
        EpsilonSoFar = record.GetProperty("epsilon").ValueKind == JsonValueKind.Null ? null : record.GetProperty("epsilon").GetDouble(),
    };
}

/// <summary>The result of checking an audit log.</summary>
/// <param name="IsValid">Whether the whole chain is intact.</param>
/// <param name="RecordCount">Records that verified (up to the break, if any).</param>
/// <param name="LastHash">The hash of the last record that verified.</param>
/// <param name="BrokenAtLine">The 1-based line where the chain breaks, or null.</param>
/// <param name="Problem">What is wrong there, or null.</param>
public sealed record AuditVerification(bool IsValid, long RecordCount, string LastHash, int? BrokenAtLine, string? Problem);

/// <summary>An audit log is tampered with or corrupt.</summary>
public sealed class AuditLogException : FederatedException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">What is wrong and where.</param>
    public AuditLogException(string message)
        : base(message)
    {
    }
}
