using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace FederatedSharp.Grpc.Security;

/// <summary>
/// A federation's own certificate authority, made with System.Security.Cryptography (no openssl): it issues the
/// server's TLS certificate and one client certificate per participant, whose subject common name is the client id.
/// Keys are ECDSA P-256. Keep the CA key offline in real set-ups; the server and clients need only the CA certificate.
/// </summary>
public sealed class FederationCertificateAuthority : IDisposable
{
    private const string ServerAuthOid = "1.3.6.1.5.5.7.3.1";
    private const string ClientAuthOid = "1.3.6.1.5.5.7.3.2";
    private readonly X509Certificate2 _certificate;
    private readonly TimeProvider _time;

    private FederationCertificateAuthority(X509Certificate2 certificate, TimeProvider? time)
    {
        if (!certificate.HasPrivateKey)
        {
            throw new ArgumentException("The CA certificate has no private key, so it cannot issue certificates.", nameof(certificate));
        }

        _certificate = certificate;
        _time = time ?? TimeProvider.System;
    }

    /// <summary>The CA certificate with its private key.</summary>
    public X509Certificate2 Certificate => _certificate;

    /// <summary>Creates a new self-signed federation CA.</summary>
    /// <param name="name">The CA's common name, e.g. "Heart Disease federation CA".</param>
    /// <param name="validity">How long it is valid; null for 5 years.</param>
    /// <param name="timeProvider">The clock certificates are dated by (the CA's and those it issues); null for the system clock.</param>
    /// <returns>The CA.</returns>
    public static FederationCertificateAuthority Create(string name, TimeSpan? validity = null, TimeProvider? timeProvider = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        using ECDsa key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest(new X500DistinguishedName("CN=" + Escape(name)), key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, true, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign | X509KeyUsageFlags.DigitalSignature, true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        DateTimeOffset now = (timeProvider ?? TimeProvider.System).GetUtcNow();
        using X509Certificate2 created = request.CreateSelfSigned(now.AddMinutes(-5), now.Add(validity ?? TimeSpan.FromDays(5 * 365)));
        return new FederationCertificateAuthority(Reload(created), timeProvider);
    }

    /// <summary>Loads a CA from PEM files (certificate and private key).</summary>
    /// <param name="certificatePemPath">The CA certificate.</param>
    /// <param name="keyPemPath">The CA private key.</param>
    /// <param name="timeProvider">The clock issued certificates are dated by; null for the system clock.</param>
    /// <returns>The CA.</returns>
    public static FederationCertificateAuthority Load(string certificatePemPath, string keyPemPath, TimeProvider? timeProvider = null) =>
        new(FederationCertificates.LoadPem(certificatePemPath, keyPemPath), timeProvider);

    /// <summary>Issues the server's TLS certificate.</summary>
    /// <param name="dnsNames">Host names clients use to reach the server; "localhost" is always included.</param>
    /// <param name="ipAddresses">IP addresses clients use; loopback (IPv4 and IPv6) is always included.</param>
    /// <param name="validity">How long it is valid; null for 1 year.</param>
    /// <returns>A certificate with its private key.</returns>
    public X509Certificate2 IssueServerCertificate(IEnumerable<string>? dnsNames = null, IEnumerable<IPAddress>? ipAddresses = null, TimeSpan? validity = null)
    {
        var names = new SubjectAlternativeNameBuilder();
        var dns = new SortedSet<string>(StringComparer.OrdinalIgnoreCase) { "localhost" };
        dns.UnionWith(dnsNames ?? []);
        foreach (string name in dns)
        {
            names.AddDnsName(name);
        }

        var ips = new HashSet<IPAddress> { IPAddress.Loopback, IPAddress.IPv6Loopback };
        ips.UnionWith(ipAddresses ?? []);
        foreach (IPAddress ip in ips)
        {
            names.AddIpAddress(ip);
        }

        return Issue(dns.First(), names, ServerAuthOid, validity ?? TimeSpan.FromDays(365));
    }

    /// <summary>Issues a participant's client certificate; its subject common name is <paramref name="clientId"/>.</summary>
    /// <param name="clientId">The client id the server will map this certificate to.</param>
    /// <param name="validity">How long it is valid; null for 1 year.</param>
    /// <returns>A certificate with its private key.</returns>
    public X509Certificate2 IssueClientCertificate(string clientId, TimeSpan? validity = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(clientId);
        var names = new SubjectAlternativeNameBuilder();
        names.AddUri(new Uri("urn:federatedsharp:client:" + Uri.EscapeDataString(clientId)));
        return Issue(clientId, names, ClientAuthOid, validity ?? TimeSpan.FromDays(365));
    }

    /// <summary>
    /// Signs a participant's certificate signing request: the participant made its key pair and keeps the private key;
    /// only the request's public key and name reach the CA. The request's signature must verify, its subject must be
    /// exactly <c>CN=clientId</c>, and its key ECDSA P-256/P-384 or RSA of at least 2048 bits. Extensions the request asks
    /// for are ignored: the CA grants client authentication only.
    /// </summary>
    /// <param name="requestPem">The PEM <c>CERTIFICATE REQUEST</c>.</param>
    /// <param name="clientId">The client id the certificate is for.</param>
    /// <param name="validity">How long it is valid; null for 1 year.</param>
    /// <returns>The certificate, without a private key.</returns>
    /// <exception cref="ArgumentException">The request does not verify, names another subject, or has a weak key.</exception>
    public X509Certificate2 SignClientRequest(string requestPem, string clientId, TimeSpan? validity = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(requestPem);
        ArgumentException.ThrowIfNullOrWhiteSpace(clientId);
        CertificateRequest asked;
        try
        {
            asked = CertificateRequest.LoadSigningRequestPem(requestPem, HashAlgorithmName.SHA256, CertificateRequestLoadOptions.Default);
        }
        catch (CryptographicException e)
        {
            throw new ArgumentException("The certificate signing request does not parse or its signature does not verify: " + e.Message, nameof(requestPem), e);
        }

        if (asked.SubjectName.Name != "CN=" + Escape(clientId))
        {
            throw new ArgumentException($"The certificate signing request is for '{asked.SubjectName.Name}', not for 'CN={clientId}'.", nameof(requestPem));
        }

        CheckKey(asked.PublicKey);
        var request = new CertificateRequest(asked.SubjectName, asked.PublicKey, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        names.AddUri(new Uri("urn:federatedsharp:client:" + Uri.EscapeDataString(clientId)));
        AddExtensions(request, names, ClientAuthOid);
        DateTimeOffset now = _time.GetUtcNow();
        using X509Certificate2 issued = request.Create(_certificate, now.AddMinutes(-5), NotAfter(now, validity ?? TimeSpan.FromDays(365)), Serial());
        return X509CertificateLoader.LoadCertificate(issued.RawData);
    }

    /// <summary>Writes the CA certificate and key as PEM files.</summary>
    /// <param name="certificatePemPath">Where the certificate goes (share it with every participant).</param>
    /// <param name="keyPemPath">Where the key goes (keep it private).</param>
    public void Save(string certificatePemPath, string keyPemPath) => FederationCertificates.SavePem(_certificate, certificatePemPath, keyPemPath);

    /// <summary>Disposes the CA certificate.</summary>
    public void Dispose() => _certificate.Dispose();

    private X509Certificate2 Issue(string commonName, SubjectAlternativeNameBuilder names, string usageOid, TimeSpan validity)
    {
        using ECDsa key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest(new X500DistinguishedName("CN=" + Escape(commonName)), key, HashAlgorithmName.SHA256);
        AddExtensions(request, names, usageOid);
        DateTimeOffset now = _time.GetUtcNow();
        using X509Certificate2 issued = request.Create(_certificate, now.AddMinutes(-5), NotAfter(now, validity), Serial());
        using X509Certificate2 withKey = issued.CopyWithPrivateKey(key);
        return Reload(withKey);
    }

    private void AddExtensions(CertificateRequest request, SubjectAlternativeNameBuilder names, string usageOid)
    {
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.KeyAgreement, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension(new OidCollection { new Oid(usageOid) }, false));
        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(_certificate, true, false));
    }

    private DateTimeOffset NotAfter(DateTimeOffset now, TimeSpan validity) =>
        now.Add(validity) < _certificate.NotAfter ? now.Add(validity) : new DateTimeOffset(_certificate.NotAfter.ToUniversalTime());

    private static byte[] Serial()
    {
        byte[] serial = new byte[16];
        RandomNumberGenerator.Fill(serial);
        serial[0] &= 0x7F;
        return serial;
    }

    private static void CheckKey(PublicKey key)
    {
        if (key.GetECDsaPublicKey() is { } ec)
        {
            using (ec)
            {
                if (ec.KeySize < 256)
                {
                    throw new ArgumentException($"The request's ECDSA key has {ec.KeySize} bits; at least 256 are required.");
                }
            }

            return;
        }

        using RSA? rsa = key.GetRSAPublicKey();
        if (rsa is null || rsa.KeySize < 2048)
        {
            throw new ArgumentException(rsa is null ? "The request's key is neither ECDSA nor RSA." : $"The request's RSA key has {rsa.KeySize} bits; at least 2048 are required.");
        }
    }

    private static string Escape(string name) => name.Replace("\\", "\\\\", StringComparison.Ordinal).Replace(",", "\\,", StringComparison.Ordinal)
        .Replace("+", "\\+", StringComparison.Ordinal).Replace("=", "\\=", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal);

    // Round-trips through PKCS#12 so the key is usable by SslStream on every platform.
    private static X509Certificate2 Reload(X509Certificate2 certificate) =>
        X509CertificateLoader.LoadPkcs12(certificate.Export(X509ContentType.Pkcs12), null, X509KeyStorageFlags.Exportable);
}
