using System.Net;
using FederatedSharp.Aggregation;
using FederatedSharp.Clients;
using FederatedSharp.Grpc.Hosting;
using FederatedSharp.Grpc.Tests.TestUtilities;
using FederatedSharp.Parameters;
using FederatedSharp.Server;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace FederatedSharp.Grpc.Tests.DependencyInjection;

public class FederatedGrpcServiceCollectionExtensionsTests
{
    private static async Task<WebApplication> StartServerAsync(int rounds)
    {
        WebApplicationBuilder builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0, l => l.Protocols = HttpProtocols.Http2));
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Federation:Server:Rounds"] = rounds.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Federation:Server:MinAvailableClients"] = "2",
            ["Federation:Grpc:AllowUnauthenticatedClients"] = "true",
            ["Federation:Grpc:HeartbeatInterval"] = "00:00:00.200",
        });
        builder.Services.AddFederatedGrpcTransport(builder.Configuration.GetSection("Federation:Grpc"));
        builder.Services.AddFederatedServer(builder.Configuration.GetSection("Federation:Server"), (server, _) =>
        {
            using ModelParameters initial = ModelParameters.Create(TestFederation.Layout);
            server.UseAggregator(new FedAvg()).WithInitialParameters(initial);
        });
        builder.Services.AddFederatedServerHostedService();
        WebApplication app = builder.Build();
        app.MapFederatedGrpcTransport();
        await app.StartAsync();
        return app;
    }

    private static Uri Address(WebApplication app) =>
        new(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());

    private static async Task<IHost> StartClientAsync(Uri server, string clientId, IClient client)
    {
        HostApplicationBuilder builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Client:ServerAddress"] = server.ToString(),
            ["Client:ClientId"] = clientId,
            ["Client:AllowInsecureHttp"] = "true",
            ["Client:InitialReconnectDelay"] = "00:00:00.050",
        });
        builder.Services.AddFederatedClient(_ => client);
        builder.Services.AddFederatedGrpcClient(builder.Configuration.GetSection("Client"));
        IHost host = builder.Build();
        await host.StartAsync();
        return host;
    }

    private static async Task<HealthStatus> HealthAsync(IServiceProvider services) =>
        (await services.GetRequiredService<HealthCheckService>().CheckHealthAsync()).Status;

    [Test]
    public async Task AddFederatedServerHostedService_TwoHostedClients_RunsTheFederationAndReportsHealth()
    {
        await using WebApplication server = await StartServerAsync(rounds: 2);
        Assert.That(await HealthAsync(server.Services), Is.EqualTo(HealthStatus.Degraded), "no client connected yet");

        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var fitting = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var a = new TargetClient(1, 10) { BeforeFit = async (_, ct) => { fitting.TrySetResult(); await gate.Task.WaitAsync(ct); } };
        using IHost clientA = await StartClientAsync(Address(server), "a", a);
        using IHost clientB = await StartClientAsync(Address(server), "b", new TargetClient(3, 10));
        await fitting.Task.WithTimeout();

        Assert.Multiple(async () =>
        {
            Assert.That(await HealthAsync(server.Services), Is.EqualTo(HealthStatus.Healthy), "listening with both clients connected");
            Assert.That(await HealthAsync(clientA.Services), Is.EqualTo(HealthStatus.Healthy), "a's session is registered");
        });
        gate.SetResult();

        FederationResult result = await server.Services.GetRequiredService<FederatedServerHostedService>().Completion.WithTimeout();
        var hostedA = clientA.Services.GetRequiredService<FederatedGrpcClientHostedService>();
        await hostedA.Completion.WithTimeout();
        Assert.Multiple(async () =>
        {
            Assert.That(result.History.Rounds, Has.Count.EqualTo(2));
            Assert.That(result.History.Rounds.Select(r => r.AggregatedUpdates), Is.All.EqualTo(2));
            Assert.That(server.Services.GetRequiredService<IHostApplicationLifetime>().ApplicationStopping.IsCancellationRequested, Is.True, "the server stops when its federation is done");
            Assert.That(hostedA.Runner.CompletedTasks, Is.GreaterThanOrEqualTo(4), "two fits and two evaluations");
            Assert.That(await HealthAsync(clientA.Services), Is.EqualTo(HealthStatus.Unhealthy), "the session ended with the federation");
        });
        await server.StopAsync();
    }

    [Test]
    public async Task AddFederatedGrpcClient_InvalidConfiguration_HostStartFailsNamingTheSetting()
    {
        HostApplicationBuilder builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?> { ["Client:ClientId"] = "a" });
        builder.Services.AddFederatedClient(_ => new TargetClient(1, 1));
        builder.Services.AddFederatedGrpcClient(builder.Configuration.GetSection("Client"));
        using IHost host = builder.Build();

        var ex = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());
        Assert.That(ex!.Message, Does.Contain("ServerAddress"));
    }

    [Test]
    public async Task AddFederatedGrpcTransport_NoAuthenticationConfigured_HostStartFailsClearly()
    {
        WebApplicationBuilder builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0, l => l.Protocols = HttpProtocols.Http2));
        builder.Services.AddFederatedGrpcTransport();
        using WebApplication app = builder.Build();

        var ex = await Assert.ThrowsAsync<OptionsValidationException>(() => app.StartAsync());
        Assert.That(ex!.Message, Does.Contain("ClientCertificateAuthority"));
    }
}
