using System.Security.Cryptography;
using System.Text;
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
    public const string GenesisHash = "0000000000000000000000000000000000000000000000000000000000000000";

    private readonly string _path;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private long _next = -1;
    private string _lastHash = GenesisHash;

    /// <summary>Opens (or will create) the log at <paramref name="path"/>.</summary>
    /// <param name="path">The file.</param>
    public FileAuditLog(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        _path = Path.GetFullPath(path);
    }

    /// <summary>The hash of the last record written or read (the genesis hash for an empty log).</summary>
    public string LastHash => _lastHash;

    /// <inheritdoc />
    /// <exception cref="AuditLogException">The existing log is tampered with or corrupt.</exception>
    public async Task<AuditRecord> AppendAsync(AuditEntry entry, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(entry);
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_next < 0)
            {
                AuditVerification existing = Verify(_path);
                if (!existing.IsValid)
                {
                    throw new AuditLogException($"Refusing to append to the audit log {_path}: {existing.Problem}");
                }

                _next = existing.RecordCount;
                _lastHash = existing.LastHash;
            }

            string recordJson = RecordJson(_next, entry, _lastHash);
            string hash = Sha256Hex(recordJson);
            string line = "{\"record\":" + recordJson + ",\"hash\":\"" + hash + "\"}\n";
            string? directory = Path.GetDirectoryName(_path);
            if (!string.IsNullOrEmpty(directory))
            {
                Directory.CreateDirectory(directory);
            }

            var stream = new FileStream(_path, FileMode.Append, FileAccess.Write, FileShare.Read, 4096, FileOptions.WriteThrough);
            await using (stream.ConfigureAwait(false))
            {
                await stream.WriteAsync(Encoding.UTF8.GetBytes(line), cancellationToken).ConfigureAwait(false);
                stream.Flush(flushToDisk: true);
            }

            var record = new AuditRecord(_next, entry, _lastHash, hash);
            _next++;
            _lastHash = hash;
            return record;
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Reads every record of a log, checking the chain as it goes.</summary>
    /// <param name="path">The log file.</param>
    /// <returns>The records.</returns>
    /// <exception cref="AuditLogException">The log is tampered with or corrupt (the message says where).</exception>
    public static IReadOnlyList<AuditRecord> ReadAll(string path)
    {
        var records = new List<AuditRecord>();
        AuditVerification result = VerifyCore(path, records);
        return result.IsValid ? records : throw new AuditLogException(result.Problem!);
    }

    /// <summary>Checks a log's hash chain without throwing.</summary>
    /// <param name="path">The log file (a missing file is an empty, valid log).</param>
    /// <returns>Whether it is intact, how many records it has, and where it breaks.</returns>
    public static AuditVerification Verify(string path) => VerifyCore(path, null);

    private static AuditVerification VerifyCore(string path, List<AuditRecord>? records)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (!File.Exists(path))
        {
            return new AuditVerification(true, 0, GenesisHash, null, null);
        }

        string previous = GenesisHash;
        long count = 0;
        int lineNumber = 0;
        foreach (string line in File.ReadLines(path, Encoding.UTF8))
        {
            lineNumber++;
            if (line.Length == 0)
            {
                return Broken(count, previous, lineNumber, "empty line");
            }

            try
            {
                using JsonDocument document = JsonDocument.Parse(line);
                JsonElement root = document.RootElement;
                string recordText = root.GetProperty("record").GetRawText();
                string hash = root.GetProperty("hash").GetString() ?? "";
                if (!string.Equals(Sha256Hex(recordText), hash, StringComparison.Ordinal))
                {
                    return Broken(count, previous, lineNumber, "the record does not match its hash (it was changed)");
                }

                JsonElement record = root.GetProperty("record");
                if (record.GetProperty("seq").GetInt64() != count)
                {
                    return Broken(count, previous, lineNumber, $"sequence {record.GetProperty("seq").GetInt64()} where {count} was expected (a record was removed, inserted or reordered)");
                }

                if (!string.Equals(record.GetProperty("prev").GetString(), previous, StringComparison.Ordinal))
                {
                    return Broken(count, previous, lineNumber, "the previous-hash link is broken (a record was removed, inserted or reordered)");
                }

                records?.Add(new AuditRecord(count, ParseEntry(record), previous, hash));
                previous = hash;
                count++;
            }
            catch (Exception ex) when (ex is JsonException or KeyNotFoundException or InvalidOperationException or FormatException)
            {
                return Broken(count, previous, lineNumber, "not a valid audit record: " + ex.Message);
            }
        }

        return new AuditVerification(true, count, previous, null, null);

        static AuditVerification Broken(long count, string previous, int line, string problem) =>
            new(false, count, previous, line, $"line {line}: {problem}");
    }

    private static string RecordJson(long sequence, AuditEntry entry, string previous)
    {
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteNumber("seq", sequence);
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

            w.WriteString("prev", previous);
            w.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length);
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

    private static string Sha256Hex(string text) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)));
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
