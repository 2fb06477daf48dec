using System.Net;
using System.Security.Cryptography.X509Certificates;
using FederatedSharp.Coordinator.Api;
using FederatedSharp.Coordinator.Dashboard;
using FederatedSharp.Coordinator.Jobs;
using FederatedSharp.Coordinator.Nodes;
using FederatedSharp.Coordinator.Store;
using FederatedSharp.Grpc.Security;
using FederatedSharp.Grpc.Server;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace FederatedSharp.Coordinator;

/// <summary>
/// A running coordinator: one HTTPS port (TLS with the coordinator's certificate) serving the node protocol and the
/// job federation over gRPC, authenticated by the nodes' certificates, the API for people over bearer tokens, and the
/// dashboard in the browser (<c>/dashboard</c>, signed in with an API token).
/// </summary>
public sealed class CoordinatorHost : IAsyncDisposable
{
    private readonly WebApplication _app;

    private CoordinatorHost(WebApplication app, Uri address, CoordinatorStore store)
    {
        _app = app;
        Address = address;
        Store = store;
    }

    /// <summary>The address nodes and the CLI reach the coordinator at.</summary>
    public Uri Address { get; }

    /// <summary>The store.</summary>
    public CoordinatorStore Store { get; }

    /// <summary>The coordinator's services (its node registry, for example).</summary>
    public IServiceProvider Services => _app.Services;

    /// <summary>Starts a coordinator from its home.</summary>
    /// <param name="home">The coordinator's home (<see cref="CoordinatorHome.InitializeAsync"/>).</param>
    /// <param name="address">Where to listen (default 127.0.0.1 on a free port).</param>
    /// <param name="port">The port; 0 for a free one.</param>
    /// <param name="options">How jobs gather nodes (default: <see cref="CoordinatorOptions"/>' defaults).</param>
    /// <param name="loggerFactory">Logging (default: none).</param>
    /// <param name="timeProvider">The clock (default: the system's).</param>
    /// <param name="cancellationToken">Cancels the start.</param>
    /// <returns>The running coordinator.</returns>
    public static async Task<CoordinatorHost> StartAsync(
        CoordinatorHome home, IPAddress? address = null, int port = 0, CoordinatorOptions? options = null, ILoggerFactory? loggerFactory = null,
        TimeProvider? timeProvider = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(home);
        options ??= new CoordinatorOptions();
        options.Validate();
        TimeProvider time = timeProvider ?? TimeProvider.System;
        CoordinatorStore store = CoordinatorStore.Open(home.StoreConnectionString, time);
        await store.MigrateAsync(cancellationToken).ConfigureAwait(false);
        X509Certificate2 server = home.LoadServerCertificate();
        X509Certificate2 authority = FederationCertificates.LoadCertificatePem(home.AuthorityCertificatePath);
        IReadOnlyList<NodeRecord> nodes = await store.ListNodesAsync(cancellationToken).ConfigureAwait(false);

        WebApplicationBuilder builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = [], ContentRootPath = home.Directory });
        builder.Logging.ClearProviders();
        // The process's signals belong to the application that starts the coordinator (fedsharp stops it on Ctrl+C and
        // SIGTERM by disposing it); a console lifetime here swallowed them, and the process never exited.
        builder.Services.AddSingleton<Microsoft.Extensions.Hosting.IHostLifetime, FederatedSharp.Grpc.Hosting.PassiveLifetime>();
        if (loggerFactory is not null)
        {
            builder.Services.AddSingleton(loggerFactory);
        }

        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(address ?? IPAddress.Loopback, port, listen =>
        {
            listen.Protocols = Microsoft.AspNetCore.Server.Kestrel.Core.HttpProtocols.Http1AndHttp2;
            listen.UseHttps(https => https.UseFederationHttps(server));
        }));
        builder.Services.ConfigureHttpJsonOptions(o => o.SerializerOptions.Converters.Add(new System.Text.Json.Serialization.JsonStringEnumConverter(System.Text.Json.JsonNamingPolicy.SnakeCaseLower)));
        builder.Services.AddSingleton(time);
        builder.Services.AddSingleton(home);
        builder.Services.AddSingleton(options);
        builder.Services.AddSingleton(store);
        builder.Services.AddSingleton<NodeSessions>();
        builder.Services.AddSingleton(sp => new NodeRegistry(store, home, time));
        builder.Services.AddFederatedGrpcTransport(o =>
        {
            o.ClientCertificateAuthority = authority;
            o.AllowedClientIds.Add("\u0000none");
            foreach (NodeRecord revoked in nodes.Where(n => n.Status == NodeStatus.Revoked))
            {
                o.RevokedClientIds.Add(revoked.Name);
            }
        });
        // The job runner ends the federation itself, after the running job's rounds have stopped.
        foreach (ServiceDescriptor shutdown in builder.Services.Where(d => d.ImplementationType == typeof(FederatedSharp.Grpc.Hosting.GrpcTransportShutdown)).ToList())
        {
            builder.Services.Remove(shutdown);
        }

        builder.Services.AddSingleton<JobRunner>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<JobRunner>());
        builder.Services.AddSingleton<JobCommands>();
        builder.Services.AddSingleton<DashboardEvents>();
        DashboardAuthentication.AddServices(builder.Services, home);

        WebApplication app = builder.Build();
        app.UseAuthentication();
        app.UseRateLimiter();
        app.MapFederatedGrpcTransport();
        app.MapGrpcService<CoordinatorService>();
        CoordinatorApi.Map(app);
        DashboardAuthentication.Map(app);
        DashboardEndpoints.Map(app);
        _ = app.Services.GetRequiredService<DashboardEvents>();
        WireRevocation(app.Services);
        await app.StartAsync(cancellationToken).ConfigureAwait(false);
        string bound = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return new CoordinatorHost(app, new Uri(bound.Replace("127.0.0.1", "localhost", StringComparison.Ordinal)), store);
    }

    /// <summary>Stops the coordinator.</summary>
    /// <returns>A task.</returns>
    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync().ConfigureAwait(false);
        await _app.DisposeAsync().ConfigureAwait(false);
        await Store.DisposeAsync().ConfigureAwait(false);
    }

    // A revoked node's control stream and federation session end at once, and it is refused from then on.
    private static void WireRevocation(IServiceProvider services)
    {
        var registry = services.GetRequiredService<NodeRegistry>();
        var sessions = services.GetRequiredService<NodeSessions>();
        var transport = services.GetRequiredService<GrpcFederationTransport>();
        registry.Revoked += (node, reason) =>
        {
            sessions.End(node, "revoked: " + reason);
            transport.Revoke(node, reason);
        };
    }
}
