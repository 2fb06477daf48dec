using FederatedSharp.Grpc.Client;
using FederatedSharp.Grpc.Hosting;
using FederatedSharp.Grpc.Server;
using FederatedSharp.Transport;
using Grpc.AspNetCore.Server;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>
/// Registers the gRPC side of a federation: the server's transport (<see cref="AddFederatedGrpcTransport(IServiceCollection, Action{GrpcFederationOptions}?)"/>),
/// a hosted run of the registered <see cref="FederatedSharp.Server.FederatedServer"/> (<see cref="AddFederatedServerHostedService"/>)
/// and a hosted hospital client (<see cref="AddFederatedGrpcClient(IServiceCollection, Action{GrpcClientOptions, IServiceProvider})"/>),
/// each with its health check.
/// </summary>
public static class FederatedGrpcServiceCollectionExtensions
{
    /// <summary>
    /// Adds gRPC, the federation service and a singleton <see cref="GrpcFederationTransport"/> (also registered as
    /// <see cref="ITransport"/>, so <c>AddFederatedServer</c> in the same container runs on it), with the health check
    /// <c>federated-server</c>: healthy while the application listens and enough clients are connected, degraded below
    /// <c>MinAvailableClients</c>. Map the service with <c>app.MapFederatedGrpcTransport()</c>.
    /// </summary>
    /// <param name="services">The services.</param>
    /// <param name="configure">Sets authentication, limits and timeouts (on top of any configuration binding); null for none.</param>
    /// <returns>The services.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="services"/> is null.</exception>
    public static IServiceCollection AddFederatedGrpcTransport(this IServiceCollection services, Action<GrpcFederationOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        OptionsBuilder<GrpcFederationOptions> options = services.AddOptions<GrpcFederationOptions>().ValidateOnStart();
        if (configure is not null)
        {
            options.Configure(configure);
        }

        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<GrpcFederationOptions>>(new ValidateBy<GrpcFederationOptions>(o => o.Validate())));
        services.AddGrpc();
        services.AddOptions<GrpcServiceOptions>().Configure<IOptions<GrpcFederationOptions>>((grpc, federation) =>
        {
            grpc.MaxReceiveMessageSize = federation.Value.MaxMessageBytes;
            grpc.MaxSendMessageSize = federation.Value.MaxMessageBytes;
            grpc.EnableDetailedErrors = false;
        });
        services.TryAddSingleton(sp => new GrpcFederationTransport(
            sp.GetRequiredService<IOptions<GrpcFederationOptions>>().Value,
            sp.GetService<ILogger<GrpcFederationTransport>>(),
            sp.GetService<TimeProvider>()));
        services.TryAddSingleton<ITransport>(sp => sp.GetRequiredService<GrpcFederationTransport>());
        services.AddHostedService<GrpcTransportShutdown>();
        AddCheckOnce<FederatedServerHealthCheck>(services, FederatedServerHealthCheck.Name);
        return services;
    }

    /// <summary>
    /// Adds the transport as <see cref="AddFederatedGrpcTransport(IServiceCollection, Action{GrpcFederationOptions}?)"/> does,
    /// binding <see cref="GrpcFederationOptions"/> from <paramref name="configuration"/> (<c>MaxClients</c>,
    /// <c>HeartbeatInterval</c>, <c>MessageTimeout</c>, <c>AllowedClientIds</c> ...); certificates come from
    /// <paramref name="configure"/>.
    /// </summary>
    /// <param name="services">The services.</param>
    /// <param name="configuration">The configuration section.</param>
    /// <param name="configure">Sets what configuration cannot hold (the client CA, tokens); null for none.</param>
    /// <returns>The services.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="services"/> or <paramref name="configuration"/> is null.</exception>
    public static IServiceCollection AddFederatedGrpcTransport(this IServiceCollection services, IConfiguration configuration, Action<GrpcFederationOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);
        services.AddOptions<GrpcFederationOptions>().Bind(configuration);
        return services.AddFederatedGrpcTransport(configure);
    }

    /// <summary>
    /// Runs the registered <see cref="FederatedSharp.Server.FederatedServer"/> as a hosted service once the application
    /// has started (see <see cref="FederatedServerHostedService"/>: its <c>Completion</c> gives the result; an
    /// <see cref="IProgress{T}"/> of <see cref="FederatedSharp.Server.RoundReport"/> in the container receives each round).
    /// </summary>
    /// <param name="services">The services.</param>
    /// <param name="configure">Hosting settings (stop the application when the federation ends, default true); null for defaults.</param>
    /// <returns>The services.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="services"/> is null.</exception>
    public static IServiceCollection AddFederatedServerHostedService(this IServiceCollection services, Action<FederationHostingOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        AddHostingOptions(services, configure);
        services.TryAddSingleton<FederatedServerHostedService>();
        services.AddHostedService(sp => sp.GetRequiredService<FederatedServerHostedService>());
        return services;
    }

    /// <summary>
    /// Runs the registered <see cref="FederatedSharp.Clients.IClient"/> as a participant of a gRPC federation in a hosted
    /// service (<see cref="FederatedGrpcClientHostedService"/>): it reconnects as <see cref="GrpcClientRunner"/> does,
    /// stops with the application, and reports the health check <c>federated-client</c> (healthy while its session is
    /// registered).
    /// </summary>
    /// <param name="services">The services.</param>
    /// <param name="configure">Sets the server address, identity and certificates.</param>
    /// <returns>The services.</returns>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    public static IServiceCollection AddFederatedGrpcClient(this IServiceCollection services, Action<GrpcClientOptions, IServiceProvider> configure)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configure);
        services.AddOptions<GrpcClientOptions>().ValidateOnStart().Configure<IServiceProvider>((o, sp) => configure(o, sp));
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<GrpcClientOptions>>(new ValidateBy<GrpcClientOptions>(o => o.Validate())));
        AddHostingOptions(services, null);
        services.TryAddSingleton(sp => new GrpcClientRunner(
            sp.GetRequiredService<IOptions<GrpcClientOptions>>().Value,
            sp.GetService<ILogger<GrpcClientRunner>>(),
            sp.GetService<TimeProvider>()));
        services.TryAddSingleton<FederatedGrpcClientHostedService>();
        services.AddHostedService(sp => sp.GetRequiredService<FederatedGrpcClientHostedService>());
        AddCheckOnce<FederatedClientHealthCheck>(services, FederatedClientHealthCheck.Name);
        return services;
    }

    /// <summary>
    /// Adds the hosted client as <see cref="AddFederatedGrpcClient(IServiceCollection, Action{GrpcClientOptions, IServiceProvider})"/>
    /// does, binding <see cref="GrpcClientOptions"/> from <paramref name="configuration"/> (<c>ServerAddress</c>,
    /// <c>ClientId</c>, <c>MaxReconnectDelay</c> ...) before <paramref name="configure"/> adds the certificates.
    /// </summary>
    /// <param name="services">The services.</param>
    /// <param name="configuration">The configuration section.</param>
    /// <param name="configure">Sets what configuration cannot hold (certificates, properties, the state); null for none.</param>
    /// <returns>The services.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="services"/> or <paramref name="configuration"/> is null.</exception>
    public static IServiceCollection AddFederatedGrpcClient(this IServiceCollection services, IConfiguration configuration, Action<GrpcClientOptions, IServiceProvider>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);
        services.AddOptions<GrpcClientOptions>().Bind(configuration);
        return services.AddFederatedGrpcClient(configure ?? ((_, _) => { }));
    }

    private static void AddHostingOptions(IServiceCollection services, Action<FederationHostingOptions>? configure)
    {
        OptionsBuilder<FederationHostingOptions> hosting = services.AddOptions<FederationHostingOptions>();
        if (configure is not null)
        {
            hosting.Configure(configure);
        }
    }

    private static void AddCheckOnce<TCheck>(IServiceCollection services, string name)
        where TCheck : class, Microsoft.Extensions.Diagnostics.HealthChecks.IHealthCheck
    {
        IHealthChecksBuilder checks = services.AddHealthChecks();
        if (!services.Any(d => d.ServiceType == typeof(TCheck)))
        {
            services.AddSingleton<TCheck>();
            checks.AddCheck<TCheck>(name, tags: ["federation"]);
        }
    }
}
