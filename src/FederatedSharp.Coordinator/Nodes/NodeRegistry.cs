using System.Security.Cryptography.X509Certificates;
using FederatedSharp.Coordinator.Security;
using FederatedSharp.Coordinator.Store;
using FederatedSharp.Grpc.Security;

namespace FederatedSharp.Coordinator.Nodes;

/// <summary>An enrolment or node operation was refused; the message says why.</summary>
public sealed class EnrolmentException : Exception
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">Why.</param>
    public EnrolmentException(string message)
        : base(message)
    {
    }
}

/// <summary>
/// Provisioning without moving private keys: an admin issues a node a one-time token; the node sends a certificate
/// signing request with it; an admin approves, and the coordinator's CA signs the request; a revoked node is refused
/// from then on and its live sessions end. Every step is in the audit trail.
/// </summary>
public sealed class NodeRegistry
{
    private readonly CoordinatorStore _store;
    private readonly CoordinatorHome _home;
    private readonly TimeProvider _time;

    /// <summary>Creates the registry.</summary>
    /// <param name="store">The store.</param>
    /// <param name="home">The coordinator's home (its CA).</param>
    /// <param name="timeProvider">The clock.</param>
    public NodeRegistry(CoordinatorStore store, CoordinatorHome home, TimeProvider timeProvider)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(home);
        ArgumentNullException.ThrowIfNull(timeProvider);
        _store = store;
        _home = home;
        _time = timeProvider;
    }

    /// <summary>Raised after a node is revoked (its live sessions must end).</summary>
    public event Action<string, string>? Revoked;

    /// <summary>Issues a one-time enrolment token for a node.</summary>
    /// <param name="node">The node's name.</param>
    /// <param name="validity">How long the token works.</param>
    /// <param name="admin">Who issues it.</param>
    /// <param name="cancellationToken">Cancels the write.</param>
    /// <returns>The token, to hand to the site once.</returns>
    public async Task<string> CreateEnrolmentTokenAsync(string node, TimeSpan validity, string admin, CancellationToken cancellationToken = default)
    {
        CheckName(node);
        string token = ApiTokens.NewToken("fse");
        DateTimeOffset now = _time.GetUtcNow();
        await _store.AddEnrolmentTokenAsync(new EnrolmentTokenRecord(ApiTokens.Hash(token), node, now, now.Add(validity), null), cancellationToken).ConfigureAwait(false);
        await _store.AppendAuditAsync(admin, "node.token_issued", node, $"valid until {now.Add(validity):yyyy-MM-dd HH:mm}", now, cancellationToken).ConfigureAwait(false);
        return token;
    }

    /// <summary>Takes a node's certificate signing request with its one-time token; the node waits for an admin's approval.</summary>
    /// <param name="node">The node's name.</param>
    /// <param name="requestPem">Its certificate signing request.</param>
    /// <param name="token">Its one-time token.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>A task.</returns>
    /// <exception cref="EnrolmentException">The token is unknown, used, expired or another node's; the request is invalid; or the node is already enrolled or revoked.</exception>
    public async Task RequestAsync(string node, string requestPem, string token, CancellationToken cancellationToken = default)
    {
        CheckName(node);
        NodeRecord? existing = await _store.GetNodeAsync(node, cancellationToken).ConfigureAwait(false);
        if (existing is { Status: NodeStatus.Active or NodeStatus.Revoked })
        {
            throw new EnrolmentException($"Node '{node}' is {(existing.Status == NodeStatus.Active ? "already enrolled" : "revoked")}.");
        }

        using (FederationCertificateAuthority ca = _home.LoadAuthority(_time))
        {
            try
            {
                // Only checks the request; the certificate is issued on approval.
                using X509Certificate2 probe = ca.SignClientRequest(requestPem, node, TimeSpan.FromMinutes(1));
            }
            catch (ArgumentException e)
            {
                throw new EnrolmentException(e.Message);
            }
        }

        DateTimeOffset now = _time.GetUtcNow();
        if (!await _store.UseEnrolmentTokenAsync(ApiTokens.Hash(token ?? ""), node, now, cancellationToken).ConfigureAwait(false))
        {
            await _store.AppendAuditAsync(node, "node.enrolment_refused", node, "invalid, used or expired token", now, cancellationToken).ConfigureAwait(false);
            throw new EnrolmentException($"The enrolment token is not valid for node '{node}' (unknown, already used, expired, or issued for another node).");
        }

        await _store.SaveNodeAsync(new NodeRecord { Name = node, Status = NodeStatus.PendingEnrolment, CertificateRequestPem = requestPem, RequestedAt = now }, cancellationToken).ConfigureAwait(false);
        await _store.AppendAuditAsync(node, "node.enrolment_requested", node, "certificate signing request received", now, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Approves a pending node: the CA signs its request.</summary>
    /// <param name="node">The node.</param>
    /// <param name="admin">Who approves.</param>
    /// <param name="cancellationToken">Cancels the write.</param>
    /// <returns>The node's record.</returns>
    /// <exception cref="EnrolmentException">The node is not pending.</exception>
    public async Task<NodeRecord> ApproveAsync(string node, string admin, CancellationToken cancellationToken = default)
    {
        NodeRecord record = await _store.GetNodeAsync(node, cancellationToken).ConfigureAwait(false) ?? throw new EnrolmentException($"No node '{node}' has asked to enrol.");
        if (record.Status != NodeStatus.PendingEnrolment)
        {
            throw new EnrolmentException($"Node '{node}' is {record.Status}, not pending enrolment.");
        }

        using FederationCertificateAuthority ca = _home.LoadAuthority(_time);
        using X509Certificate2 certificate = ca.SignClientRequest(record.CertificateRequestPem!, node);
        DateTimeOffset now = _time.GetUtcNow();
        NodeRecord active = record with { Status = NodeStatus.Active, CertificatePem = certificate.ExportCertificatePem(), Thumbprint = certificate.Thumbprint, EnrolledAt = now };
        await _store.SaveNodeAsync(active, cancellationToken).ConfigureAwait(false);
        await _store.AppendAuditAsync(admin, "node.approved", node, "certificate " + certificate.Thumbprint, now, cancellationToken).ConfigureAwait(false);
        return active;
    }

    /// <summary>Revokes a node: refused at its next connection, and its live sessions end now.</summary>
    /// <param name="node">The node.</param>
    /// <param name="admin">Who revokes.</param>
    /// <param name="reason">Why.</param>
    /// <param name="cancellationToken">Cancels the write.</param>
    /// <returns>The node's record.</returns>
    /// <exception cref="EnrolmentException">The registry has no such node.</exception>
    public async Task<NodeRecord> RevokeAsync(string node, string admin, string reason, CancellationToken cancellationToken = default)
    {
        NodeRecord record = await _store.GetNodeAsync(node, cancellationToken).ConfigureAwait(false) ?? throw new EnrolmentException($"The registry has no node '{node}'.");
        DateTimeOffset now = _time.GetUtcNow();
        NodeRecord revoked = record with { Status = NodeStatus.Revoked, RevokedAt = now, RevokedReason = reason };
        await _store.SaveNodeAsync(revoked, cancellationToken).ConfigureAwait(false);
        await _store.AppendAuditAsync(admin, "node.revoked", node, reason, now, cancellationToken).ConfigureAwait(false);
        Revoked?.Invoke(node, reason);
        return revoked;
    }

    /// <summary>A node's certificate once issued, with the CA certificate to trust the coordinator by.</summary>
    /// <param name="node">The node.</param>
    /// <param name="cancellationToken">Cancels the query.</param>
    /// <returns>The status (<c>pending</c>, <c>issued</c>, <c>revoked</c> or <c>unknown</c>) and, when issued, the PEMs.</returns>
    public async Task<(string Status, string? CertificatePem, string AuthorityPem)> GetCertificateAsync(string node, CancellationToken cancellationToken = default)
    {
        NodeRecord? record = await _store.GetNodeAsync(node, cancellationToken).ConfigureAwait(false);
        string authority = await File.ReadAllTextAsync(_home.AuthorityCertificatePath, cancellationToken).ConfigureAwait(false);
        return record?.Status switch
        {
            NodeStatus.Active => ("issued", record.CertificatePem, authority),
            NodeStatus.PendingEnrolment => ("pending", null, authority),
            NodeStatus.Revoked => ("revoked", null, authority),
            _ => ("unknown", null, authority),
        };
    }

    /// <summary>The active node a client certificate belongs to: issued by this CA, for an active node, with its thumbprint; null otherwise.</summary>
    /// <param name="certificate">The presented certificate.</param>
    /// <param name="cancellationToken">Cancels the query.</param>
    /// <returns>The node, or null with the reason.</returns>
    public async Task<(NodeRecord? Node, string? Problem)> AuthenticateAsync(X509Certificate2? certificate, CancellationToken cancellationToken = default)
    {
        if (certificate is null)
        {
            return (null, "no client certificate (nodes connect with the certificate the coordinator issued)");
        }

        using X509Certificate2 authority = FederationCertificates.LoadCertificatePem(_home.AuthorityCertificatePath);
        if (!FederationCertificates.IsIssuedBy(certificate, authority, requireClientAuth: true, out string? problem))
        {
            return (null, $"the certificate '{certificate.Subject}' is not valid for this coordinator: {problem}");
        }

        string name = FederationCertificates.GetClientId(certificate);
        NodeRecord? node = await _store.GetNodeAsync(name, cancellationToken).ConfigureAwait(false);
        return node switch
        {
            { Status: NodeStatus.Revoked } => (null, $"node '{name}' is revoked: {node.RevokedReason}"),
            { Status: NodeStatus.Active } when string.Equals(node.Thumbprint, certificate.Thumbprint, StringComparison.OrdinalIgnoreCase) => (node, null),
            { Status: NodeStatus.Active } => (null, $"the certificate is not the one issued to node '{name}'"),
            _ => (null, $"node '{name}' is not enrolled"),
        };
    }

    private static void CheckName(string node)
    {
        ArgumentException.ThrowIfNullOrEmpty(node);
        if (!node.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '.'))
        {
            throw new EnrolmentException($"'{node}' is not a node name: use letters, digits, '-' and '.'.");
        }
    }
}
