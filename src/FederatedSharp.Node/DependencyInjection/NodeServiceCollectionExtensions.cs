using FederatedSharp.Node;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Runs a node inside any .NET host: <c>services.AddFederatedNode("/srv/fedsharp-node")</c>.</summary>
public static class NodeServiceCollectionExtensions
{
    /// <summary>
    /// Adds the node at <paramref name="homeDirectory"/> as a hosted service: it connects to its coordinator when the
    /// host starts, takes and decides jobs while it runs, and disconnects when the host stops. When the coordinator
    /// refuses the node for good (revoked), the service logs it and stops the application.
    /// </summary>
    /// <param name="services">The services.</param>
    /// <param name="homeDirectory">The node's home (created by <c>fedsharp node init</c> and enrolled).</param>
    /// <returns>The services.</returns>
    public static IServiceCollection AddFederatedNode(this IServiceCollection services, string homeDirectory)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentException.ThrowIfNullOrEmpty(homeDirectory);
        services.AddHostedService(sp => new NodeAgentHostedService(
            NodeHome.Open(homeDirectory, sp.GetService<TimeProvider>()),
            sp.GetService<ILoggerFactory>(),
            sp.GetRequiredService<IHostApplicationLifetime>()));
        return services;
    }
}

/// <summary>The node's agent as a hosted service.</summary>
internal sealed partial class NodeAgentHostedService(NodeHome home, ILoggerFactory? loggers, IHostApplicationLifetime lifetime) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        ILogger logger = (loggers ?? Microsoft.Extensions.Logging.Abstractions.NullLoggerFactory.Instance).CreateLogger<NodeAgentHostedService>();
        try
        {
            await new NodeAgent(home, loggers).RunAsync(stoppingToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        catch (NodeRefusedException e)
        {
            Log.Refused(logger, home.Identity.Name, e.Message);
            lifetime.StopApplication();
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 5121, Level = LogLevel.Critical, Message = "Node {Node} stops: {Reason}")]
        public static partial void Refused(ILogger logger, string node, string reason);
    }
}
