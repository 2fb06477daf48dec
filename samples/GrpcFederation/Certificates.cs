using System.Security.Cryptography.X509Certificates;
using FederatedSharp.Grpc.Security;
using HeartDisease;

namespace GrpcFederation;

/// <summary>
/// The federation's certificates in one folder: the CA, the server's certificate and one client certificate per
/// hospital. A real federation would hand each hospital only its own key and the CA certificate.
/// </summary>
public static class Certificates
{
    public static string CaCertificate(string dir) => Path.Combine(dir, "ca.pem");

    public static string ClientCertificate(string dir, string clientId) => Path.Combine(dir, clientId + ".pem");

    public static string ClientKey(string dir, string clientId) => Path.Combine(dir, clientId + ".key");

    /// <summary>Creates the CA and every certificate unless the folder already has them.</summary>
    public static void EnsureCreated(string dir, IEnumerable<string> extraHostNames)
    {
        if (File.Exists(CaCertificate(dir)))
        {
            return;
        }

        Directory.CreateDirectory(dir);
        using FederationCertificateAuthority ca = FederationCertificateAuthority.Create("Fed-Heart-Disease federation CA");
        using X509Certificate2 server = ca.IssueServerCertificate(extraHostNames);
        FederationCertificates.SavePem(server, Path.Combine(dir, "server.pem"), Path.Combine(dir, "server.key"));
        foreach (string hospital in HeartDiseaseData.CentreNames)
        {
            string id = ClientId(hospital);
            using X509Certificate2 client = ca.IssueClientCertificate(id);
            FederationCertificates.SavePem(client, ClientCertificate(dir, id), ClientKey(dir, id));
        }

        // The CA key is written last: its presence says the set is complete.
        ca.Save(Path.Combine(dir, "ca-cert.tmp"), Path.Combine(dir, "ca.key"));
        File.Move(Path.Combine(dir, "ca-cert.tmp"), CaCertificate(dir));
        Console.WriteLine($"Created a federation CA and certificates for the server and {HeartDiseaseData.CentreNames.Length} hospitals in {dir}");
    }

    public static X509Certificate2 LoadServer(string dir) => FederationCertificates.LoadPem(Path.Combine(dir, "server.pem"), Path.Combine(dir, "server.key"));

    public static X509Certificate2 LoadCa(string dir) => FederationCertificates.LoadCertificatePem(CaCertificate(dir));

    public static X509Certificate2 LoadClient(string dir, string clientId) => FederationCertificates.LoadPem(ClientCertificate(dir, clientId), ClientKey(dir, clientId));

    /// <summary>The client id of a hospital: its name in lower case with dashes ("va-long-beach").</summary>
    public static string ClientId(string hospital) => hospital.ToLowerInvariant().Replace(' ', '-');
}
