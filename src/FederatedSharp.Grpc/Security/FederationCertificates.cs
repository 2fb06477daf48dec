using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace FederatedSharp.Grpc.Security;

/// <summary>Loading, saving and checking the PEM certificates of a federation.</summary>
public static class FederationCertificates
{
    private const string ClientAuthOid = "1.3.6.1.5.5.7.3.2";

    /// <summary>Loads a certificate and its private key from PEM files.</summary>
    /// <param name="certificatePemPath">The certificate.</param>
    /// <param name="keyPemPath">The private key.</param>
    /// <returns>The certificate with its key.</returns>
    public static X509Certificate2 LoadPem(string certificatePemPath, string keyPemPath)
    {
        using X509Certificate2 loaded = X509Certificate2.CreateFromPemFile(certificatePemPath, keyPemPath);
        return X509CertificateLoader.LoadPkcs12(loaded.Export(X509ContentType.Pkcs12), null, X509KeyStorageFlags.Exportable);
    }

    /// <summary>Loads a certificate without a key (a CA certificate to trust) from a PEM file.</summary>
    /// <param name="certificatePemPath">The certificate.</param>
    /// <returns>The certificate.</returns>
    public static X509Certificate2 LoadCertificatePem(string certificatePemPath) =>
        X509Certificate2.CreateFromPem(File.ReadAllText(certificatePemPath));

    /// <summary>Writes a certificate and (when present) its private key as PEM files; the key file is made owner-only on Unix.</summary>
    /// <param name="certificate">The certificate.</param>
    /// <param name="certificatePemPath">Where the certificate goes.</param>
    /// <param name="keyPemPath">Where the key goes; null to write only the certificate.</param>
    public static void SavePem(X509Certificate2 certificate, string certificatePemPath, string? keyPemPath)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        File.WriteAllText(certificatePemPath, certificate.ExportCertificatePem());
        if (keyPemPath is null)
        {
            return;
        }

        using AsymmetricAlgorithm key = (AsymmetricAlgorithm?)certificate.GetECDsaPrivateKey() ?? certificate.GetRSAPrivateKey()
            ?? throw new ArgumentException("The certificate has no ECDSA or RSA private key.", nameof(certificate));
        File.WriteAllText(keyPemPath, key.ExportPkcs8PrivateKeyPem());
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(keyPemPath, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }
    }

    /// <summary>
    /// Whether <paramref name="certificate"/> chains to <paramref name="authority"/> (and only to it: the system's
    /// trusted roots play no part), is within its validity period and, when <paramref name="requireClientAuth"/>, is
    /// meant for client authentication.
    /// </summary>
    /// <param name="certificate">The presented certificate.</param>
    /// <param name="authority">The federation CA.</param>
    /// <param name="requireClientAuth">Require the client-authentication extended key usage.</param>
    /// <param name="problem">Why it was refused, or null.</param>
    /// <returns>Whether it is valid.</returns>
    public static bool IsIssuedBy(X509Certificate2 certificate, X509Certificate2 authority, bool requireClientAuth, out string? problem)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        ArgumentNullException.ThrowIfNull(authority);
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(authority);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        chain.ChainPolicy.VerificationFlags = X509VerificationFlags.NoFlag;
        if (requireClientAuth)
        {
            chain.ChainPolicy.ApplicationPolicy.Add(new Oid(ClientAuthOid));
        }

        bool built = chain.Build(certificate);
        if (!built)
        {
            problem = string.Join("; ", chain.ChainStatus.Select(s => s.StatusInformation.Trim()).Where(s => s.Length > 0).DefaultIfEmpty("chain did not build"));
            return false;
        }

        X509Certificate2 root = chain.ChainElements[^1].Certificate;
        if (!root.RawDataMemory.Span.SequenceEqual(authority.RawDataMemory.Span))
        {
            problem = "the certificate does not chain to the federation CA";
            return false;
        }

        problem = null;
        return true;
    }

    /// <summary>
    /// A server-certificate check for TLS clients that trusts exactly the federation CA (and checks the host name).
    /// </summary>
    /// <param name="authority">The federation CA.</param>
    /// <returns>A callback for <see cref="SslClientAuthenticationOptions.RemoteCertificateValidationCallback"/>.</returns>
    public static RemoteCertificateValidationCallback ServerValidator(X509Certificate2 authority)
    {
        ArgumentNullException.ThrowIfNull(authority);
        return (_, certificate, _, errors) =>
        {
            if (certificate is null || errors.HasFlag(SslPolicyErrors.RemoteCertificateNameMismatch) || errors.HasFlag(SslPolicyErrors.RemoteCertificateNotAvailable))
            {
                return false;
            }

            using X509Certificate2 presented = X509CertificateLoader.LoadCertificate(certificate.GetRawCertData());
            return IsIssuedBy(presented, authority, requireClientAuth: false, out _);
        };
    }

    /// <summary>The client id a federation client certificate stands for: its subject common name.</summary>
    /// <param name="certificate">The certificate.</param>
    /// <returns>The client id.</returns>
    public static string GetClientId(X509Certificate2 certificate)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        return certificate.GetNameInfo(X509NameType.SimpleName, forIssuer: false);
    }

    /// <summary>
    /// Creates a participant's key pair (ECDSA P-256) and a certificate signing request for <c>CN=clientId</c>. The key
    /// stays with the caller; only the request goes to the federation's CA.
    /// </summary>
    /// <param name="clientId">The participant's client id.</param>
    /// <param name="key">The new private key (the caller owns it and must keep it private).</param>
    /// <returns>The PEM certificate signing request.</returns>
    public static string CreateSigningRequest(string clientId, out ECDsa key)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(clientId);
        key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest(new X500DistinguishedName("CN=" + clientId.Replace(",", "\\,", StringComparison.Ordinal)), key, HashAlgorithmName.SHA256);
        return request.CreateSigningRequestPem();
    }
}
