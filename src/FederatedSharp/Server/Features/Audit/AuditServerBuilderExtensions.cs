using FederatedSharp.Server.Audit;
using FederatedSharp.Server.Features.Audit;

namespace FederatedSharp.Server;

/// <summary>The audit trail: <see cref="UseAuditLog"/>.</summary>
public static class AuditServerBuilderExtensions
{
    /// <summary>
    /// Appends a record of every round to <paramref name="log"/>: the global model's SHA-256, the clients whose updates
    /// went in, the clients left out and why, the strategy's reported parameters and the privacy budget spent, each
    /// record chained to the one before by its hash (see <see cref="FileAuditLog"/>).
    /// </summary>
    /// <param name="builder">The builder.</param>
    /// <param name="log">The log, for example a <see cref="FileAuditLog"/>.</param>
    /// <returns>The builder.</returns>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    public static FederatedServerBuilder UseAuditLog(this FederatedServerBuilder builder, IAuditLog log)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(log);
        return builder.UseFeature(new AuditFeature(log));
    }
}
