using FederatedSharp.Clients;
using FederatedSharp.Server;
using FederatedSharp.Transport;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>
/// Registers FederatedSharp servers and clients in a service collection. The server is made by the same
/// <see cref="FederatedServerBuilder"/> as without DI (the way npgsql's <c>AddNpgsqlDataSource</c> hands over its
/// data source builder), so every feature the builder has is there.
/// </summary>
public static class FederatedServiceCollectionExtensions
{
    /// <summary>
    /// Registers a singleton <see cref="FederatedServer"/>. When it is first resolved, a <see cref="FederatedServerBuilder"/>
    /// starts from <see cref="IOptions{FederatedServerOptions}"/>, the registered <see cref="ITransport"/> (if any),
    /// <see cref="ILoggerFactory"/> (the null logger when absent) and <see cref="TimeProvider"/> (the system clock when
    /// absent); <paramref name="configure"/> then sets the strategy, the initial model and any feature, and the server is
    /// built. The options are validated by <see cref="IValidateOptions{TOptions}"/> and, in a host, on start.
    /// </summary>
    /// <param name="services">The services.</param>
    /// <param name="configure">Configures the builder; the service provider resolves what it needs.</param>
    /// <returns>The services.</returns>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    public static IServiceCollection AddFederatedServer(this IServiceCollection services, Action<FederatedServerBuilder, IServiceProvider> configure)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configure);
        services.AddOptions<FederatedServerOptions>().ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<FederatedServerOptions>>(new ValidateBy<FederatedServerOptions>(o => o.Validate())));
        services.TryAddSingleton(sp =>
        {
            var builder = new FederatedServerBuilder()
                .UseOptions(sp.GetRequiredService<IOptions<FederatedServerOptions>>().Value)
                .UseLoggerFactory(sp.GetService<ILoggerFactory>() ?? NullLoggerFactory.Instance)
                .UseTimeProvider(sp.GetService<TimeProvider>() ?? TimeProvider.System);
            if (sp.GetService<ITransport>() is { } transport)
            {
                builder.UseTransport(transport);
            }

            configure(builder, sp);
            return builder.Build();
        });
        return services;
    }

    /// <summary>
    /// Registers a singleton <see cref="FederatedServer"/> as <see cref="AddFederatedServer(IServiceCollection, Action{FederatedServerBuilder, IServiceProvider})"/>
    /// does, with its options bound from <paramref name="configuration"/> (for example the section <c>Federation</c> of
    /// <c>appsettings.json</c>: <c>Rounds</c>, <c>MinFitClients</c>, <c>FitTimeout</c>, <c>Validation:MaxUpdateNorm</c> ...).
    /// </summary>
    /// <param name="services">The services.</param>
    /// <param name="configuration">The configuration section holding <see cref="FederatedServerOptions"/>.</param>
    /// <param name="configure">Configures the builder.</param>
    /// <returns>The services.</returns>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    public static IServiceCollection AddFederatedServer(this IServiceCollection services, IConfiguration configuration, Action<FederatedServerBuilder, IServiceProvider> configure)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);
        services.AddOptions<FederatedServerOptions>().Bind(configuration);
        return services.AddFederatedServer(configure);
    }

    /// <summary>Registers <typeparamref name="TClient"/> as the process's <see cref="IClient"/> (singleton; the first registration wins).</summary>
    /// <typeparam name="TClient">The client type.</typeparam>
    /// <param name="services">The services.</param>
    /// <returns>The services.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="services"/> is null.</exception>
    public static IServiceCollection AddFederatedClient<TClient>(this IServiceCollection services)
        where TClient : class, IClient
    {
        ArgumentNullException.ThrowIfNull(services);
        services.TryAddSingleton<IClient, TClient>();
        return services;
    }

    /// <summary>Registers a client created by <paramref name="factory"/> as the process's <see cref="IClient"/> (singleton; the first registration wins).</summary>
    /// <param name="services">The services.</param>
    /// <param name="factory">Creates the client.</param>
    /// <returns>The services.</returns>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    public static IServiceCollection AddFederatedClient(this IServiceCollection services, Func<IServiceProvider, IClient> factory)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(factory);
        services.TryAddSingleton(factory);
        return services;
    }
}
