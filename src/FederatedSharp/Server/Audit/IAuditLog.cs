namespace FederatedSharp.Server.Audit;

/// <summary>An append-only log of rounds; see <see cref="FileAuditLog"/>.</summary>
public interface IAuditLog
{
    /// <summary>Appends the record of a round.</summary>
    /// <param name="entry">The round's facts.</param>
    /// <param name="cancellationToken">Cancels the write.</param>
    /// <returns>The stored record, with its hash.</returns>
    Task<AuditRecord> AppendAsync(AuditEntry entry, CancellationToken cancellationToken = default);
}
