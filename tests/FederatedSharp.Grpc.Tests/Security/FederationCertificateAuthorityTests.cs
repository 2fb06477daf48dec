using System.Net;
using System.Security.Cryptography.X509Certificates;
using FederatedSharp.Grpc.Security;

namespace FederatedSharp.Grpc.Tests.Security;

public class FederationCertificateAuthorityTests
{
    [Test]
    public void IssueClientCertificate_ChainsToTheCaAndCarriesTheClientId()
    {
        using FederationCertificateAuthority ca = FederationCertificateAuthority.Create("Test federation CA");

        using X509Certificate2 client = ca.IssueClientCertificate("hospital-7");

        Assert.Multiple(() =>
        {
            Assert.That(client.HasPrivateKey, Is.True);
            Assert.That(FederationCertificates.GetClientId(client), Is.EqualTo("hospital-7"));
            Assert.That(FederationCertificates.IsIssuedBy(client, ca.Certificate, requireClientAuth: true, out string? problem), Is.True, problem);
            Assert.That(client.NotAfter, Is.LessThanOrEqualTo(ca.Certificate.NotAfter));
        });
    }

    [Test]
    public void IsIssuedBy_CertificateOfAnotherCa_FalseWithReason()
    {
        using FederationCertificateAuthority ca = FederationCertificateAuthority.Create("Ours");
        using FederationCertificateAuthority other = FederationCertificateAuthority.Create("Theirs");
        using X509Certificate2 foreign = other.IssueClientCertificate("hospital-1");

        bool valid = FederationCertificates.IsIssuedBy(foreign, ca.Certificate, requireClientAuth: true, out string? problem);

        Assert.That(valid, Is.False);
        Assert.That(problem, Is.Not.Empty);
    }

    [Test]
    public void IsIssuedBy_ServerCertificateUsedAsClientCertificate_False()
    {
        using FederationCertificateAuthority ca = FederationCertificateAuthority.Create("Ours");
        using X509Certificate2 server = ca.IssueServerCertificate(["federation.example.org"], [IPAddress.Parse("10.0.0.5")]);

        Assert.Multiple(() =>
        {
            Assert.That(FederationCertificates.IsIssuedBy(server, ca.Certificate, requireClientAuth: true, out _), Is.False, "no client-auth usage");
            Assert.That(FederationCertificates.IsIssuedBy(server, ca.Certificate, requireClientAuth: false, out _), Is.True);
            Assert.That(server.Extensions.OfType<X509SubjectAlternativeNameExtension>().Single().EnumerateDnsNames(), Is.EquivalentTo(new[] { "federation.example.org", "localhost" }));
            Assert.That(server.Extensions.OfType<X509SubjectAlternativeNameExtension>().Single().EnumerateIPAddresses(), Does.Contain(IPAddress.Parse("10.0.0.5")).And.Contain(IPAddress.Loopback));
        });
    }

    [Test]
    public void IsIssuedBy_ExpiredCertificate_False()
    {
        using FederationCertificateAuthority ca = FederationCertificateAuthority.Create("Ours");
        using X509Certificate2 expired = ca.IssueClientCertificate("old", TimeSpan.FromMinutes(-1));

        Assert.That(FederationCertificates.IsIssuedBy(expired, ca.Certificate, requireClientAuth: true, out _), Is.False);
    }

    [Test]
    public void SaveAndLoad_PemFiles_RoundTripKeyAndCertificate()
    {
        string dir = Directory.CreateTempSubdirectory("fs-ca-").FullName;
        try
        {
            using FederationCertificateAuthority ca = FederationCertificateAuthority.Create("Saved CA");
            ca.Save(Path.Combine(dir, "ca.pem"), Path.Combine(dir, "ca.key"));

            using FederationCertificateAuthority loaded = FederationCertificateAuthority.Load(Path.Combine(dir, "ca.pem"), Path.Combine(dir, "ca.key"));
            using X509Certificate2 client = loaded.IssueClientCertificate("x");
            using X509Certificate2 trusted = FederationCertificates.LoadCertificatePem(Path.Combine(dir, "ca.pem"));

            Assert.Multiple(() =>
            {
                Assert.That(loaded.Certificate.Thumbprint, Is.EqualTo(ca.Certificate.Thumbprint));
                Assert.That(FederationCertificates.IsIssuedBy(client, trusted, requireClientAuth: true, out _), Is.True);
                Assert.That(trusted.HasPrivateKey, Is.False);
                if (!OperatingSystem.IsWindows())
                {
                    Assert.That(File.GetUnixFileMode(Path.Combine(dir, "ca.key")), Is.EqualTo(UnixFileMode.UserRead | UnixFileMode.UserWrite));
                }
            });
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Test]
    public void SignClientRequest_RequestMadeByTheParticipant_CertificateForItsOwnKey()
    {
        using var ca = FederationCertificateAuthority.Create("test CA");
        string csr = FederationCertificates.CreateSigningRequest("cleveland", out System.Security.Cryptography.ECDsa key);
        using (key)
        {
            using var issued = ca.SignClientRequest(csr, "cleveland");
            using var withKey = issued.CopyWithPrivateKey(key);

            Assert.That(issued.HasPrivateKey, Is.False);
            Assert.That(FederationCertificates.GetClientId(withKey), Is.EqualTo("cleveland"));
            Assert.That(FederationCertificates.IsIssuedBy(withKey, ca.Certificate, requireClientAuth: true, out string? problem), Is.True, problem);
            Assert.That(csr, Does.Not.Contain("PRIVATE KEY"));
        }
    }

    [Test]
    public void SignClientRequest_RequestForAnotherName_Refused()
    {
        using var ca = FederationCertificateAuthority.Create("test CA");
        string csr = FederationCertificates.CreateSigningRequest("hungary", out System.Security.Cryptography.ECDsa key);
        key.Dispose();

        var e = Assert.Throws<ArgumentException>(() => ca.SignClientRequest(csr, "cleveland"));

        Assert.That(e!.Message, Does.Contain("is for 'CN=hungary', not for 'CN=cleveland'"));
    }

    [Test]
    public void SignClientRequest_TamperedRequest_SignatureDoesNotVerify()
    {
        using var ca = FederationCertificateAuthority.Create("test CA");
        string csr = FederationCertificates.CreateSigningRequest("cleveland", out System.Security.Cryptography.ECDsa key);
        key.Dispose();
        string body = csr.Replace("-----BEGIN CERTIFICATE REQUEST-----", "", StringComparison.Ordinal).Replace("-----END CERTIFICATE REQUEST-----", "", StringComparison.Ordinal);
        byte[] der = Convert.FromBase64String(string.Concat(body.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)));
        der[^5] ^= 0x40;
        string tampered = "-----BEGIN CERTIFICATE REQUEST-----\n" + Convert.ToBase64String(der) + "\n-----END CERTIFICATE REQUEST-----\n";

        Assert.Throws<ArgumentException>(() => ca.SignClientRequest(tampered, "cleveland"));
    }
}
