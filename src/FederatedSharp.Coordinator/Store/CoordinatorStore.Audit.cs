using System.Data;
using System.Data.Common;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using FederatedSharp.Server.Audit;
using System.Runtime.CompilerServices;

namespace FederatedSharp.Coordinator.Store;

public sealed partial class CoordinatorStore
{
    /// <summary>
    /// Appends to the audit trail. Each entry's hash is the SHA-256 of its canonical text, which includes the previous
    /// entry's hash, so an edited, removed or reordered row breaks the chain where it happened.
    /// </summary>
    /// <param name="actor">Who.</param>
    /// <param name="action">What.</param>
    /// <param name="subject">On what.</param>
    /// <param name="detail">More, or empty.</param>
    /// <param name="at">When.</param>
    /// <param name="cancellationToken">Cancels the write.</param>
    /// <returns>The entry.</returns>
    public async Task<CoordinatorAuditRecord> AppendAuditAsync(string actor, string action, string subject, string detail, DateTimeOffset at, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(actor);
        ArgumentException.ThrowIfNullOrEmpty(action);
        ArgumentNullException.ThrowIfNull(subject);
        ArgumentNullException.ThrowIfNull(detail);
        DbConnection connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using ConfiguredAsyncDisposable connectionDisposal = connection.ConfigureAwait(false);
        DbTransaction transaction = await connection.BeginTransactionAsync(IsolationLevel.Serializable, cancellationToken).ConfigureAwait(false);
        await using ConfiguredAsyncDisposable transactionDisposal = transaction.ConfigureAwait(false);
        if (_dialect.LockAudit.Length > 0)
        {
            await ExecuteAsync(connection, transaction, _dialect.LockAudit, [], cancellationToken).ConfigureAwait(false);
        }

        long? last = await ScalarAsync<long?>(connection, transaction, "SELECT MAX(seq) FROM audit", [], cancellationToken).ConfigureAwait(false);
        long sequence = (last ?? -1) + 1;
        string previous = last is null
            ? HashChainFile.GenesisHash
            : (await ScalarAsync<string>(connection, transaction, "SELECT hash FROM audit WHERE seq = @s", [("s", last)], cancellationToken).ConfigureAwait(false))!;
        DateTimeOffset time = DateTimeOffset.FromUnixTimeMilliseconds(at.ToUnixTimeMilliseconds());
        string hash = AuditHash(sequence, time, actor, action, subject, detail, previous);
        await ExecuteAsync(connection, transaction, "INSERT INTO audit (seq, time_ms, actor, action, subject, detail, prev_hash, hash) VALUES (@s, @t, @a, @x, @sub, @d, @p, @h)",
            [("s", sequence), ("t", time), ("a", actor), ("x", action), ("sub", subject), ("d", detail), ("p", previous), ("h", hash)], cancellationToken).ConfigureAwait(false);
        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        Changed?.Invoke();
        return new CoordinatorAuditRecord(sequence, time, actor, action, subject, detail, previous, hash);
    }

    /// <summary>The audit trail, in order.</summary>
    /// <param name="cancellationToken">Cancels the query.</param>
    /// <returns>The entries as stored (use <see cref="VerifyAuditAsync"/> to check them).</returns>
    public async Task<IReadOnlyList<CoordinatorAuditRecord>> ListAuditAsync(CancellationToken cancellationToken = default) =>
        await QueryAsync("SELECT seq, time_ms, actor, action, subject, detail, prev_hash, hash FROM audit ORDER BY seq", [],
            r => new CoordinatorAuditRecord(r.Long("seq"), r.Time("time_ms"), r.Text("actor"), r.Text("action"), r.Text("subject"), r.Text("detail"), r.Text("prev_hash"), r.Text("hash")),
            cancellationToken).ConfigureAwait(false);

    /// <summary>Checks the audit trail's hash chain.</summary>
    /// <param name="cancellationToken">Cancels the query.</param>
    /// <returns>Whether it is intact, and the first entry (as a 1-based position) where it is not.</returns>
    public async Task<AuditVerification> VerifyAuditAsync(CancellationToken cancellationToken = default)
    {
        string previous = HashChainFile.GenesisHash;
        long count = 0;
        foreach (CoordinatorAuditRecord e in await ListAuditAsync(cancellationToken).ConfigureAwait(false))
        {
            string? problem = e.Sequence != count ? $"sequence {e.Sequence} where {count} was expected (an entry was removed or inserted)"
                : e.PreviousHash != previous ? "the previous-hash link is broken (an entry was removed, inserted or reordered)"
                : AuditHash(e.Sequence, e.Time, e.Actor, e.Action, e.Subject, e.Detail, e.PreviousHash) != e.Hash ? "the entry does not match its hash (it was changed)"
                : null;
            if (problem is not null)
            {
                return new AuditVerification(false, count, previous, (int)count + 1, $"entry {count + 1}: {problem}");
            }

            previous = e.Hash;
            count++;
        }

        return new AuditVerification(true, count, previous, null, null);
    }

    private static string AuditHash(long sequence, DateTimeOffset time, string actor, string action, string subject, string detail, string previous)
    {
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteNumber("seq", sequence);
            w.WriteString("time", time.ToUniversalTime().ToString("O", CultureInfo.InvariantCulture));
            w.WriteString("actor", actor);
            w.WriteString("action", action);
            w.WriteString("subject", subject);
            w.WriteString("detail", detail);
            w.WriteString("prev", previous);
            w.WriteEndObject();
        }

        return Convert.ToHexStringLower(SHA256.HashData(buffer.ToArray()));
    }
}
