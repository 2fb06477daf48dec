using System.Security.Cryptography.X509Certificates;
using FederatedSharp.Grpc.Coordination;
using Grpc.Core;
using Grpc.Net.Client;

namespace FederatedSharp.Node;

/// <summary>
/// Enrols a node with a coordinator without moving its private key: the node sends a certificate signing request and
/// a one-time token, an admin approves, and the node fetches its certificate.
/// </summary>
public static class NodeEnrolment
{
    private const string TrustFile = "coordinator-ca.crt";

    /// <summary>Sends the node's certificate signing request (creating its key pair the first time).</summary>
    /// <param name="home">The node's home.</param>
    /// <param name="coordinator">The coordinator's address.</param>
    /// <param name="token">The one-time enrolment token an admin issued for this node.</param>
    /// <param name="coordinatorAuthorityPem">The coordinator's CA certificate, obtained out of band: the node trusts only it.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>The coordinator's answer (the node then waits for an admin's approval).</returns>
    /// <exception cref="InvalidOperationException">The coordinator refused the request (the message says why).</exception>
    public static async Task<string> RequestAsync(NodeHome home, Uri coordinator, string token, string coordinatorAuthorityPem, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(home);
        ArgumentNullException.ThrowIfNull(coordinator);
        ArgumentException.ThrowIfNullOrEmpty(token);
        ArgumentException.ThrowIfNullOrEmpty(coordinatorAuthorityPem);
        string csr = NodeCredentials.GetOrCreateSigningRequest(home);
        using X509Certificate2 authority = X509Certificate2.CreateFromPem(coordinatorAuthorityPem);
        File.WriteAllText(Path.Combine(home.KeysDirectory, TrustFile), coordinatorAuthorityPem);
        home.Identity.Coordinator = coordinator.ToString();
        home.SaveIdentity();
        using GrpcChannel channel = CoordinatorChannel.Create(coordinator, authority, null);
        try
        {
            EnrolReply reply = await new Grpc.Coordination.Coordinator.CoordinatorClient(channel)
                .EnrolAsync(new EnrolRequest { Node = home.Identity.Name, CsrPem = csr, Token = token }, cancellationToken: cancellationToken).ConfigureAwait(false);
            await home.Audit.AppendAsync("enrolment_requested", null, null, null, home.Identity.Name, $"{coordinator}: {reply.Message}", cancellationToken).ConfigureAwait(false);
            return reply.Message;
        }
        catch (RpcException e)
        {
            throw new InvalidOperationException($"The coordinator refused the enrolment: {e.Status.Detail}", e);
        }
    }

    /// <summary>Fetches and installs the node's certificate once an admin approved it.</summary>
    /// <param name="home">The node's home (enrolment requested).</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>The status: <c>issued</c> (installed now), <c>pending</c>, <c>revoked</c> or <c>unknown</c>.</returns>
    public static async Task<string> FetchCertificateAsync(NodeHome home, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(home);
        Uri coordinator = new(home.Identity.Coordinator ?? throw new InvalidOperationException("This node has not asked to enrol yet (fedsharp node enrol)."));
        string trusted = File.ReadAllText(Path.Combine(home.KeysDirectory, TrustFile));
        using X509Certificate2 authority = X509Certificate2.CreateFromPem(trusted);
        using GrpcChannel channel = CoordinatorChannel.Create(coordinator, authority, null);
        GetCertificateReply reply = await new Grpc.Coordination.Coordinator.CoordinatorClient(channel)
            .GetCertificateAsync(new GetCertificateRequest { Node = home.Identity.Name }, cancellationToken: cancellationToken).ConfigureAwait(false);
        if (reply.Status == "issued")
        {
            NodeCredentials.Install(home, reply.CertificatePem, trusted);
            await home.Audit.AppendAsync("certificate_installed", null, null, null, home.Identity.Name, coordinator.ToString(), cancellationToken).ConfigureAwait(false);
        }

        return reply.Status;
    }
}
