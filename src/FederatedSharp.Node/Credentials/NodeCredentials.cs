using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using FederatedSharp.Grpc.Security;

namespace FederatedSharp.Node;

/// <summary>
/// The node's key pair and certificates in <c>keys/</c> of its home. The private key is made here, written readable by
/// its owner only, and never sent anywhere: enrolment sends the certificate signing request, and the coordinator's CA
/// returns a certificate for the same public key.
/// </summary>
public static class NodeCredentials
{
    private const string KeyFile = "node.key";
    private const string RequestFile = "node.csr";
    private const string CertificateFile = "node.crt";
    private const string AuthorityFile = "ca.crt";

    /// <summary>The node's certificate signing request, creating its key pair the first time.</summary>
    /// <param name="home">The node's home.</param>
    /// <returns>The PEM request (public key and name only).</returns>
    public static string GetOrCreateSigningRequest(NodeHome home)
    {
        ArgumentNullException.ThrowIfNull(home);
        string keys = home.KeysDirectory;
        string request = Path.Combine(keys, RequestFile);
        if (File.Exists(Path.Combine(keys, KeyFile)) && File.Exists(request))
        {
            return File.ReadAllText(request);
        }

        Directory.CreateDirectory(keys);
        string csr = FederationCertificates.CreateSigningRequest(home.Identity.Name, out ECDsa key);
        using (key)
        {
            WritePrivate(Path.Combine(keys, KeyFile), key.ExportPkcs8PrivateKeyPem());
        }

        File.WriteAllText(request, csr);
        return csr;
    }

    /// <summary>Installs the certificate the coordinator issued and the coordinator's CA certificate, after checking both.</summary>
    /// <param name="home">The node's home.</param>
    /// <param name="certificatePem">The node's certificate.</param>
    /// <param name="authorityPem">The coordinator's CA certificate.</param>
    /// <exception cref="ArgumentException">The certificate is not for this node's key, not for its name, or not issued by that CA.</exception>
    public static void Install(NodeHome home, string certificatePem, string authorityPem)
    {
        ArgumentNullException.ThrowIfNull(home);
        ArgumentException.ThrowIfNullOrEmpty(certificatePem);
        ArgumentException.ThrowIfNullOrEmpty(authorityPem);
        using X509Certificate2 authority = X509Certificate2.CreateFromPem(authorityPem);
        using ECDsa key = LoadKey(home);
        using X509Certificate2 certificate = X509Certificate2.CreateFromPem(certificatePem);
        using X509Certificate2 withKey = certificate.CopyWithPrivateKey(key);
        if (FederationCertificates.GetClientId(withKey) != home.Identity.Name)
        {
            throw new ArgumentException($"The certificate is for '{FederationCertificates.GetClientId(withKey)}', not for this node '{home.Identity.Name}'.", nameof(certificatePem));
        }

        if (!FederationCertificates.IsIssuedBy(withKey, authority, requireClientAuth: true, out string? problem))
        {
            throw new ArgumentException("The certificate is not valid under the coordinator's CA: " + problem, nameof(certificatePem));
        }

        File.WriteAllText(Path.Combine(home.KeysDirectory, CertificateFile), certificatePem);
        File.WriteAllText(Path.Combine(home.KeysDirectory, AuthorityFile), authorityPem);
    }

    /// <summary>Whether the node holds an issued certificate.</summary>
    /// <param name="home">The node's home.</param>
    /// <returns>True once <see cref="Install"/> succeeded.</returns>
    public static bool IsEnrolled(NodeHome home)
    {
        ArgumentNullException.ThrowIfNull(home);
        return File.Exists(Path.Combine(home.KeysDirectory, CertificateFile)) && File.Exists(Path.Combine(home.KeysDirectory, AuthorityFile));
    }

    /// <summary>The node's client certificate with its private key, for mutual TLS.</summary>
    /// <param name="home">The node's home.</param>
    /// <returns>The certificate (the caller disposes it).</returns>
    /// <exception cref="FileNotFoundException">The node is not enrolled yet.</exception>
    public static X509Certificate2 LoadClientCertificate(NodeHome home)
    {
        ArgumentNullException.ThrowIfNull(home);
        string path = Path.Combine(home.KeysDirectory, CertificateFile);
        if (!File.Exists(path))
        {
            throw new FileNotFoundException("This node has no certificate yet: enrol it (fedsharp node enrol) and have an admin approve it (fedsharp ca approve).", path);
        }

        return FederationCertificates.LoadPem(path, Path.Combine(home.KeysDirectory, KeyFile));
    }

    /// <summary>The coordinator's CA certificate the node trusts.</summary>
    /// <param name="home">The node's home.</param>
    /// <returns>The certificate (the caller disposes it).</returns>
    public static X509Certificate2 LoadAuthority(NodeHome home)
    {
        ArgumentNullException.ThrowIfNull(home);
        return FederationCertificates.LoadCertificatePem(Path.Combine(home.KeysDirectory, AuthorityFile));
    }

    private static ECDsa LoadKey(NodeHome home)
    {
        var key = ECDsa.Create();
        key.ImportFromPem(File.ReadAllText(Path.Combine(home.KeysDirectory, KeyFile)));
        return key;
    }

    private static void WritePrivate(string path, string pem)
    {
        using (var stream = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None))
        {
            if (!OperatingSystem.IsWindows())
            {
                File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            }

            using var writer = new StreamWriter(stream);
            writer.Write(pem);
        }
    }
}
