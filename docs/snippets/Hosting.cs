using System.Security.Cryptography.X509Certificates;
using FederatedSharp.Clients;
using FederatedSharp.Grpc.Security;
using FederatedSharp.Parameters;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Snippets;

/// <summary>A federation server and a hospital client on the .NET Generic Host, configured from appsettings.json.</summary>
public static class Hosting
{
    public static async Task ServerAsync(string[] args, ModelParameters initialModel)
    {
        // snippet: hosted-server
        var builder = WebApplication.CreateBuilder(args);
        IConfiguration federation = builder.Configuration.GetSection("Federation");
        builder.WebHost.ConfigureKestrel(k => k.ListenAnyIP(federation.GetValue("Port", 5443), listen => listen.UseHttps(https =>
            https.UseFederationHttps(FederationCertificates.LoadPem(federation["ServerCertificate"]!, federation["ServerKey"]!)))));
        builder.Services.AddFederatedGrpcTransport(federation.GetSection("Grpc"),
            o => o.ClientCertificateAuthority = FederationCertificates.LoadCertificatePem(federation["CaCertificate"]!));
        builder.Services.AddFederatedServer(federation.GetSection("Server"),    // Rounds, MinFitClients, FitTimeout ...
            (server, sp) => server.UseAggregator(federation["Strategy"] ?? "fedavg").WithInitialParameters(initialModel));
        builder.Services.AddFederatedServerHostedService();                     // runs the federation once listening
        var app = builder.Build();
        app.MapFederatedGrpcTransport();
        app.MapHealthChecks("/health");                                        // degraded below MinAvailableClients
        await app.RunAsync();
        // end snippet
    }

    public static async Task ClientAsync(string[] args, Func<IServiceProvider, IClient> createHospitalClient)
    {
        // snippet: hosted-client
        var builder = Host.CreateApplicationBuilder(args);
        IConfiguration client = builder.Configuration.GetSection("Federation:Client");   // ServerAddress, ClientId ...
        builder.Services.AddFederatedClient(createHospitalClient);                        // your IClient, e.g. a TorchTrainerClient
        builder.Services.AddFederatedGrpcClient(client, (o, sp) =>
        {
            o.ClientCertificate = FederationCertificates.LoadPem(client["Certificate"]!, client["Key"]!);
            o.TrustedCertificateAuthority = FederationCertificates.LoadCertificatePem(client["CaCertificate"]!);
        });
        await builder.Build().RunAsync();   // reconnects on its own; stops when the federation ends or on Ctrl+C
        // end snippet
    }
}
