using System.Data.Common;

namespace FederatedSharp.Coordinator.Store;

public sealed partial class CoordinatorStore
{
    private const string NodeColumns = "name, status, csr_pem, certificate_pem, thumbprint, requested_ms, enrolled_ms, revoked_ms, revoked_reason, last_seen_ms, policy_summary";

    /// <summary>Adds a node or replaces its record.</summary>
    /// <param name="node">The node.</param>
    /// <param name="cancellationToken">Cancels the write.</param>
    /// <returns>A task.</returns>
    public Task SaveNodeAsync(NodeRecord node, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(node);
        return ExecuteAsync(
            $"""
            INSERT INTO nodes ({NodeColumns}) VALUES (@name, @status, @csr, @cert, @thumb, @requested, @enrolled, @revoked, @reason, @seen, @policy)
            ON CONFLICT (name) DO UPDATE SET status = excluded.status, csr_pem = excluded.csr_pem, certificate_pem = excluded.certificate_pem,
              thumbprint = excluded.thumbprint, requested_ms = excluded.requested_ms, enrolled_ms = excluded.enrolled_ms, revoked_ms = excluded.revoked_ms,
              revoked_reason = excluded.revoked_reason, last_seen_ms = excluded.last_seen_ms, policy_summary = excluded.policy_summary
            """,
            [("name", node.Name), ("status", node.Status), ("csr", node.CertificateRequestPem), ("cert", node.CertificatePem), ("thumb", node.Thumbprint),
             ("requested", node.RequestedAt), ("enrolled", node.EnrolledAt), ("revoked", node.RevokedAt), ("reason", node.RevokedReason),
             ("seen", node.LastSeen), ("policy", node.PolicySummary)],
            cancellationToken);
    }

    /// <summary>A node by name; null when the registry has none.</summary>
    /// <param name="name">The node's name.</param>
    /// <param name="cancellationToken">Cancels the query.</param>
    /// <returns>The node, or null.</returns>
    public async Task<NodeRecord?> GetNodeAsync(string name, CancellationToken cancellationToken = default) =>
        (await QueryAsync($"SELECT {NodeColumns} FROM nodes WHERE name = @name", [("name", name)], ReadNode, cancellationToken).ConfigureAwait(false)).SingleOrDefault();

    /// <summary>Every node, by name.</summary>
    /// <param name="cancellationToken">Cancels the query.</param>
    /// <returns>The nodes.</returns>
    public async Task<IReadOnlyList<NodeRecord>> ListNodesAsync(CancellationToken cancellationToken = default) =>
        await QueryAsync($"SELECT {NodeColumns} FROM nodes ORDER BY name", [], ReadNode, cancellationToken).ConfigureAwait(false);

    /// <summary>Records a node's heartbeat and, when given, its policy summary.</summary>
    /// <param name="name">The node.</param>
    /// <param name="seen">When.</param>
    /// <param name="policySummary">Its policy summary (JSON), or null to keep the last one.</param>
    /// <param name="cancellationToken">Cancels the write.</param>
    /// <returns>Whether the node exists.</returns>
    public async Task<bool> TouchNodeAsync(string name, DateTimeOffset seen, string? policySummary = null, CancellationToken cancellationToken = default) =>
        await ExecuteAsync("UPDATE nodes SET last_seen_ms = @seen, policy_summary = COALESCE(@policy, policy_summary) WHERE name = @name",
            [("name", name), ("seen", seen), ("policy", policySummary)], cancellationToken).ConfigureAwait(false) == 1;

    /// <summary>Adds an API token (its hash).</summary>
    /// <param name="token">The token's record.</param>
    /// <param name="cancellationToken">Cancels the write.</param>
    /// <returns>A task.</returns>
    public Task AddApiTokenAsync(ApiTokenRecord token, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(token);
        return ExecuteAsync("INSERT INTO api_tokens (hash, principal, role, created_ms, expires_ms, revoked_ms) VALUES (@h, @p, @r, @c, @e, @x)",
            [("h", token.Hash), ("p", token.Principal), ("r", token.Role), ("c", token.CreatedAt), ("e", token.ExpiresAt), ("x", token.RevokedAt)], cancellationToken);
    }

    /// <summary>An API token by its hash; null when unknown.</summary>
    /// <param name="hash">The token's SHA-256, hex.</param>
    /// <param name="cancellationToken">Cancels the query.</param>
    /// <returns>The token, or null.</returns>
    public async Task<ApiTokenRecord?> FindApiTokenAsync(string hash, CancellationToken cancellationToken = default) =>
        (await QueryAsync("SELECT hash, principal, role, created_ms, expires_ms, revoked_ms FROM api_tokens WHERE hash = @h", [("h", hash)],
            r => new ApiTokenRecord(r.Text("hash"), r.Text("principal"), StoreText.Enum<Role>(r.Text("role")), r.Time("created_ms"), r.Time("expires_ms"), r.NullableTime("revoked_ms")),
            cancellationToken).ConfigureAwait(false)).SingleOrDefault();

    /// <summary>Revokes every API token of a principal.</summary>
    /// <param name="principal">The principal.</param>
    /// <param name="at">When.</param>
    /// <param name="cancellationToken">Cancels the write.</param>
    /// <returns>How many tokens were revoked.</returns>
    public Task<int> RevokeApiTokensAsync(string principal, DateTimeOffset at, CancellationToken cancellationToken = default) =>
        ExecuteAsync("UPDATE api_tokens SET revoked_ms = @at WHERE principal = @p AND revoked_ms IS NULL", [("p", principal), ("at", at)], cancellationToken);

    /// <summary>Adds a one-time enrolment token (its hash).</summary>
    /// <param name="token">The token's record.</param>
    /// <param name="cancellationToken">Cancels the write.</param>
    /// <returns>A task.</returns>
    public Task AddEnrolmentTokenAsync(EnrolmentTokenRecord token, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(token);
        return ExecuteAsync("INSERT INTO enrolment_tokens (hash, node, created_ms, expires_ms, used_ms) VALUES (@h, @n, @c, @e, @u)",
            [("h", token.Hash), ("n", token.Node), ("c", token.CreatedAt), ("e", token.ExpiresAt), ("u", token.UsedAt)], cancellationToken);
    }

    /// <summary>Uses a one-time enrolment token: succeeds once, for its node, before it expires.</summary>
    /// <param name="hash">The token's SHA-256, hex.</param>
    /// <param name="node">The node presenting it.</param>
    /// <param name="at">When.</param>
    /// <param name="cancellationToken">Cancels the write.</param>
    /// <returns>True when the token was valid and is now used.</returns>
    public async Task<bool> UseEnrolmentTokenAsync(string hash, string node, DateTimeOffset at, CancellationToken cancellationToken = default) =>
        await ExecuteAsync("UPDATE enrolment_tokens SET used_ms = @at WHERE hash = @h AND node = @n AND used_ms IS NULL AND expires_ms > @at",
            [("h", hash), ("n", node), ("at", at)], cancellationToken).ConfigureAwait(false) == 1;

    private static NodeRecord ReadNode(DbDataReader r) => new()
    {
        Name = r.Text("name"),
        Status = StoreText.Enum<NodeStatus>(r.Text("status")),
        CertificateRequestPem = r.NullableText("csr_pem"),
        CertificatePem = r.NullableText("certificate_pem"),
        Thumbprint = r.NullableText("thumbprint"),
        RequestedAt = r.Time("requested_ms"),
        EnrolledAt = r.NullableTime("enrolled_ms"),
        RevokedAt = r.NullableTime("revoked_ms"),
        RevokedReason = r.NullableText("revoked_reason"),
        LastSeen = r.NullableTime("last_seen_ms"),
        PolicySummary = r.NullableText("policy_summary"),
    };
}
