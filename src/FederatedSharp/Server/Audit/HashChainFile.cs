using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace FederatedSharp.Server.Audit;

/// <summary>
/// An append-only, hash-chained file of JSON records, one per line: <c>{"record":{"seq":n,...,"prev":"..."},"hash":"..."}</c>.
/// Each record holds the hash of the one before (<c>prev</c>), and its hash is the SHA-256 of the record's exact text,
/// so changing, removing, reordering or inserting any record breaks the chain at that point. Appends are flushed to disk
/// before they return; a reopened file continues the chain after verifying it, and refuses to append to a broken one.
/// <see cref="FileAuditLog"/> keeps rounds in one; a node keeps its decisions in another.
/// </summary>
public sealed class HashChainFile
{
    /// <summary>The previous hash of the first record.</summary>
    public const string GenesisHash = "0000000000000000000000000000000000000000000000000000000000000000";

    private readonly SemaphoreSlim _gate = new(1, 1);
    private long _next = -1;
    private string _lastHash = GenesisHash;

    /// <summary>Opens (or will create) the file at <paramref name="path"/>.</summary>
    /// <param name="path">The file.</param>
    public HashChainFile(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        Path = System.IO.Path.GetFullPath(path);
    }

    /// <summary>The file's full path.</summary>
    public string Path { get; }

    /// <summary>The hash of the last record written (the genesis hash before the first append).</summary>
    public string LastHash => _lastHash;

    /// <summary>Appends a record: its sequence number, the fields <paramref name="writeFields"/> writes, and the previous hash.</summary>
    /// <param name="writeFields">Writes the record's own members (not <c>seq</c> or <c>prev</c>) into the open record object.</param>
    /// <param name="cancellationToken">Cancels the append.</param>
    /// <returns>The record's sequence number, the previous hash and the record's hash.</returns>
    /// <exception cref="AuditLogException">The existing file is tampered with or corrupt.</exception>
    public async Task<(long Sequence, string PreviousHash, string Hash)> AppendAsync(Action<Utf8JsonWriter> writeFields, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(writeFields);
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_next < 0)
            {
                AuditVerification existing = Verify(Path);
                if (!existing.IsValid)
                {
                    throw new AuditLogException($"Refusing to append to the audit log {Path}: {existing.Problem}");
                }

                _next = existing.RecordCount;
                _lastHash = existing.LastHash;
            }

            string recordJson = RecordJson(_next, writeFields, _lastHash);
            string hash = Sha256Hex(recordJson);
            string line = "{\"record\":" + recordJson + ",\"hash\":\"" + hash + "\"}\n";
            string? directory = System.IO.Path.GetDirectoryName(Path);
            if (!string.IsNullOrEmpty(directory))
            {
                Directory.CreateDirectory(directory);
            }

            var stream = new FileStream(Path, FileMode.Append, FileAccess.Write, FileShare.Read, 4096, FileOptions.WriteThrough);
            await using (stream.ConfigureAwait(false))
            {
                await stream.WriteAsync(Encoding.UTF8.GetBytes(line), cancellationToken).ConfigureAwait(false);
                stream.Flush(flushToDisk: true);
            }

            (long Sequence, string PreviousHash, string Hash) appended = (_next, _lastHash, hash);
            _next++;
            _lastHash = hash;
            return appended;
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Checks a file's hash chain without throwing, handing every intact record to <paramref name="onRecord"/>.</summary>
    /// <param name="path">The file (a missing file is an empty, valid chain).</param>
    /// <param name="onRecord">Receives each record's object, sequence, previous hash and hash; an exception it throws (JSON, key, format) marks the record invalid. Null to only verify.</param>
    /// <returns>Whether it is intact, how many records it has, and where it breaks.</returns>
    public static AuditVerification Verify(string path, Action<JsonElement, long, string, string>? onRecord = null)
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

                onRecord?.Invoke(record, count, previous, hash);
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

    private static string RecordJson(long sequence, Action<Utf8JsonWriter> writeFields, string previous)
    {
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteNumber("seq", sequence);
            writeFields(w);
            w.WriteString("prev", previous);
            w.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length);
    }

    private static string Sha256Hex(string text) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)));
}
