using FederatedSharp.Aggregation;
using FederatedSharp.Clients;
using FederatedSharp.Parameters;
using FederatedSharp.Server;
using FederatedSharp.Transport;
using FederatedSharp.Transport.InMemory;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers FederatedSharp servers and clients in a service collection.</summary>
public static class FederatedServiceCollectionExtensions
{
    /// <summary>
    /// Registers a singleton <see cref="FederatedServer"/> built from the registered <see cref="ITransport"/>,
    /// <see cref="IAggregator"/> (FedAvg unless another is registered), initial parameters (see
    /// <see cref="WithInitialParameters"/>), <see cref="ILoggerFactory"/> (null logger when absent) and
    /// <see cref="TimeProvider"/> (system clock when absent).
    /// </summary>
    /// <param name="services">The services.</param>
    /// <param name="configure">Edits the server options.</param>
    /// <returns>A builder to configure the server further.</returns>
    public static IFederatedServerBuilder AddFederatedServer(this IServiceCollection services, Action<FederatedServerOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        var registration = new ServerRegistration();
        configure?.Invoke(registration.Options);
        services.TryAddSingleton(registration);
        services.TryAddSingleton<IAggregator, FedAvg>();
        services.TryAddSingleton(sp =>
        {
            ServerRegistration r = sp.GetRequiredService<ServerRegistration>();
            if (r.InitialParameters is null)
            {
                throw new InvalidOperationException("No initial model for the federated server: call WithInitialParameters on the builder AddFederatedServer returned.");
            }

            var builder = new FederatedServerBuilder()
                .UseTransport(sp.GetService<ITransport>() ?? throw new InvalidOperationException("No ITransport is registered: call UseInMemoryTransport or register a transport."))
                .UseAggregator(sp.GetRequiredService<IAggregator>())
                .UseLoggerFactory(sp.GetService<ILoggerFactory>() ?? NullLoggerFactory.Instance)
                .UseTimeProvider(sp.GetService<TimeProvider>() ?? TimeProvider.System)
                .Configure(o => r.Options.CopyTo(o));
            using ModelParameters initial = r.InitialParameters(sp);
            builder.WithInitialParameters(initial);
            if (r.FitConfig is not null)
            {
                builder.WithFitConfig(r.FitConfig);
            }

            if (r.CentralizedEvaluator is not null)
            {
                builder.WithCentralizedEvaluation(r.CentralizedEvaluator(sp));
            }

            return builder.Build();
        });
        return new Builder(services, registration);
    }

    /// <summary>Registers <typeparamref name="TClient"/> as the process's <see cref="IClient"/> (singleton).</summary>
    /// <typeparam name="TClient">The client type.</typeparam>
    /// <param name="services">The services.</param>
    /// <returns>The services.</returns>
    public static IServiceCollection AddFederatedClient<TClient>(this IServiceCollection services)
        where TClient : class, IClient
    {
        ArgumentNullException.ThrowIfNull(services);
        services.TryAddSingleton<IClient, TClient>();
        return services;
    }

    /// <summary>Registers a client created by <paramref name="factory"/> as the process's <see cref="IClient"/> (singleton).</summary>
    /// <param name="services">The services.</param>
    /// <param name="factory">Creates the client.</param>
    /// <returns>The services.</returns>
    public static IServiceCollection AddFederatedClient(this IServiceCollection services, Func<IServiceProvider, IClient> factory)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(factory);
        services.TryAddSingleton(factory);
        return services;
    }

    /// <summary>Uses <typeparamref name="TAggregator"/> as the strategy.</summary>
    /// <typeparam name="TAggregator">The strategy type.</typeparam>
    /// <param name="builder">The builder.</param>
    /// <returns>The builder.</returns>
    public static IFederatedServerBuilder UseAggregator<TAggregator>(this IFederatedServerBuilder builder)
        where TAggregator : class, IAggregator
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.Replace(ServiceDescriptor.Singleton<IAggregator, TAggregator>());
        return builder;
    }

    /// <summary>Uses the given strategy instance.</summary>
    /// <param name="builder">The builder.</param>
    /// <param name="aggregator">The strategy.</param>
    /// <returns>The builder.</returns>
    public static IFederatedServerBuilder UseAggregator(this IFederatedServerBuilder builder, IAggregator aggregator)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(aggregator);
        builder.Services.Replace(ServiceDescriptor.Singleton(aggregator));
        return builder;
    }

    /// <summary>Uses the strategy called <paramref name="name"/> (see <see cref="Aggregators.Names"/>).</summary>
    /// <param name="builder">The builder.</param>
    /// <param name="name">The strategy's name, for example <c>fedadam</c>.</param>
    /// <param name="hyperparameters">Hyperparameters by Flower's names; null for defaults.</param>
    /// <returns>The builder.</returns>
    public static IFederatedServerBuilder UseAggregator(this IFederatedServerBuilder builder, string name, ConfigRecord? hyperparameters = null) =>
        builder.UseAggregator(Aggregators.Create(name, hyperparameters));

    /// <summary>Uses FedProx with proximal coefficient <paramref name="proximalMu"/>.</summary>
    /// <param name="builder">The builder.</param>
    /// <param name="proximalMu">The proximal coefficient.</param>
    /// <returns>The builder.</returns>
    public static IFederatedServerBuilder UseFedProx(this IFederatedServerBuilder builder, double proximalMu) =>
        builder.UseAggregator(new FedProx(proximalMu));

    /// <summary>Uses an <see cref="InMemoryTransport"/> whose clients <paramref name="configure"/> adds.</summary>
    /// <param name="builder">The builder.</param>
    /// <param name="configure">Adds clients to the transport.</param>
    /// <param name="options">Concurrency and fault injection.</param>
    /// <returns>The builder.</returns>
    public static IFederatedServerBuilder UseInMemoryTransport(this IFederatedServerBuilder builder, Action<IServiceProvider, InMemoryTransport> configure, InMemoryTransportOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(configure);
        builder.Services.Replace(ServiceDescriptor.Singleton<ITransport>(sp =>
        {
            var transport = new InMemoryTransport(options, sp.GetService<TimeProvider>());
            configure(sp, transport);
            return transport;
        }));
        return builder;
    }

    /// <summary>Sets how the initial model is created (called once, when the server is first resolved; the server copies it).</summary>
    /// <param name="builder">The builder.</param>
    /// <param name="factory">Creates the initial parameters.</param>
    /// <returns>The builder.</returns>
    public static IFederatedServerBuilder WithInitialParameters(this IFederatedServerBuilder builder, Func<IServiceProvider, ModelParameters> factory)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(factory);
        Registration(builder).InitialParameters = factory;
        return builder;
    }

    /// <summary>Sets the per-round fit configuration.</summary>
    /// <param name="builder">The builder.</param>
    /// <param name="provider">Returns the configuration of a round.</param>
    /// <returns>The builder.</returns>
    public static IFederatedServerBuilder WithFitConfig(this IFederatedServerBuilder builder, Func<int, ConfigRecord> provider)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(provider);
        Registration(builder).FitConfig = provider;
        return builder;
    }

    /// <summary>Sets a centralized evaluator resolved from the services.</summary>
    /// <param name="builder">The builder.</param>
    /// <param name="factory">Creates the evaluator.</param>
    /// <returns>The builder.</returns>
    public static IFederatedServerBuilder WithCentralizedEvaluation(this IFederatedServerBuilder builder, Func<IServiceProvider, CentralizedEvaluator> factory)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(factory);
        Registration(builder).CentralizedEvaluator = factory;
        return builder;
    }

    private static ServerRegistration Registration(IFederatedServerBuilder builder) =>
        builder is Builder b ? b.Registration : throw new ArgumentException("Use the builder returned by AddFederatedServer.", nameof(builder));

    private sealed class ServerRegistration
    {
        public FederatedServerOptions Options { get; } = new();

        public Func<IServiceProvider, ModelParameters>? InitialParameters { get; set; }

        public Func<int, ConfigRecord>? FitConfig { get; set; }

        public Func<IServiceProvider, CentralizedEvaluator>? CentralizedEvaluator { get; set; }
    }

    private sealed class Builder(IServiceCollection services, ServerRegistration registration) : IFederatedServerBuilder
    {
        public IServiceCollection Services => services;

        public ServerRegistration Registration => registration;
    }
}
