using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Server.Kestrel.Https;

namespace Microsoft.AspNetCore.Hosting;

/// <summary>Kestrel HTTPS settings for a federation endpoint, beside Kestrel's own <c>UseHttps</c>.</summary>
public static class FederationHttpsExtensions
{
    /// <summary>
    /// Configures a Kestrel HTTPS endpoint for a federation: the server certificate, and client certificates requested
    /// at the TLS handshake and checked against the federation CA by the service (so a refused client gets a clear
    /// gRPC status instead of a failed handshake).
    /// </summary>
    /// <param name="https">The endpoint's HTTPS options.</param>
    /// <param name="serverCertificate">The server certificate with its key.</param>
    /// <returns>The options.</returns>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    public static HttpsConnectionAdapterOptions UseFederationHttps(this HttpsConnectionAdapterOptions https, X509Certificate2 serverCertificate)
    {
        ArgumentNullException.ThrowIfNull(https);
        ArgumentNullException.ThrowIfNull(serverCertificate);
        https.ServerCertificate = serverCertificate;
        https.ClientCertificateMode = ClientCertificateMode.AllowCertificate;
        https.ClientCertificateValidation = static (_, _, _) => true;
        https.CheckCertificateRevocation = false;
        return https;
    }
}
