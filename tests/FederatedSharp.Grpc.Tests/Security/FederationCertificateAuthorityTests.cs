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
}
