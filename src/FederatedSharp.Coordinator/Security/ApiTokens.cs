using System.Security.Cryptography;
using System.Text;
using FederatedSharp.Coordinator.Store;

namespace FederatedSharp.Coordinator.Security;

/// <summary>Coordinator-issued secrets (API tokens, one-time enrolment tokens): random, shown once, stored only as their SHA-256.</summary>
public static class ApiTokens
{
    /// <summary>A new random token: a prefix naming its kind and 256 random bits, URL-safe.</summary>
    /// <param name="prefix">The kind, for example <c>fsa</c> for API tokens or <c>fse</c> for enrolment tokens.</param>
    /// <returns>The token.</returns>
    public static string NewToken(string prefix)
    {
        ArgumentException.ThrowIfNullOrEmpty(prefix);
        return prefix + "_" + Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
    }

    /// <summary>The SHA-256 a token is stored and looked up by.</summary>
    /// <param name="token">The token.</param>
    /// <returns>Lower-case hex.</returns>
    public static string Hash(string token)
    {
        ArgumentNullException.ThrowIfNull(token);
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(token)));
    }

    /// <summary>Issues an API token for a principal and records it (its hash) and the issue in the audit trail.</summary>
    /// <param name="store">The store.</param>
    /// <param name="principal">Whom it authenticates.</param>
    /// <param name="role">Their role.</param>
    /// <param name="validity">How long it works.</param>
    /// <param name="issuedBy">Who issues it.</param>
    /// <param name="time">The clock.</param>
    /// <param name="cancellationToken">Cancels the write.</param>
    /// <returns>The token, to hand over once; it cannot be recovered later.</returns>
    public static async Task<string> IssueAsync(CoordinatorStore store, string principal, Role role, TimeSpan validity, string issuedBy, TimeProvider time, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentException.ThrowIfNullOrEmpty(principal);
        ArgumentNullException.ThrowIfNull(time);
        string token = NewToken("fsa");
        DateTimeOffset now = time.GetUtcNow();
        await store.AddApiTokenAsync(new ApiTokenRecord(Hash(token), principal, role, now, now.Add(validity), null), cancellationToken).ConfigureAwait(false);
        await store.AppendAuditAsync(issuedBy, "token.issued", principal, $"role {role.ToString().ToLowerInvariant()}, valid until {now.Add(validity):yyyy-MM-dd}", now, cancellationToken).ConfigureAwait(false);
        return token;
    }

    /// <summary>The principal and role a bearer token authenticates, or null when it is unknown, expired or revoked.</summary>
    /// <param name="store">The store.</param>
    /// <param name="token">The presented token.</param>
    /// <param name="now">The time.</param>
    /// <param name="cancellationToken">Cancels the lookup.</param>
    /// <returns>The token's record, or null.</returns>
    public static async Task<ApiTokenRecord?> AuthenticateAsync(CoordinatorStore store, string token, DateTimeOffset now, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(store);
        if (string.IsNullOrEmpty(token))
        {
            return null;
        }

        ApiTokenRecord? record = await store.FindApiTokenAsync(Hash(token), cancellationToken).ConfigureAwait(false);
        return IsValid(record, now) ? record : null;
    }

    /// <summary>Whether a token's record still authenticates: known, not revoked, not expired.</summary>
    /// <param name="record">The record, or null for an unknown token.</param>
    /// <param name="now">The time.</param>
    /// <returns>Whether it is valid.</returns>
    public static bool IsValid([System.Diagnostics.CodeAnalysis.NotNullWhen(true)] ApiTokenRecord? record, DateTimeOffset now) =>
        record is { RevokedAt: null } && record.ExpiresAt > now;
}
