using System.Runtime.CompilerServices;
using System.Globalization;
using FederatedSharp.Clients;
using FederatedSharp.Server;
using FederatedSharp.Transport.InMemory;

namespace FederatedSharp.Simulation;

/// <summary>
/// Runs a whole federation of virtual clients in one process: an <see cref="InMemoryTransport"/> with
/// <c>clientCount</c> clients created on demand, and a <see cref="FederatedServer"/> configured by the caller.
/// With a fixed <see cref="FederatedServerOptions.Seed"/> (and deterministic clients) the result is identical run after run.
/// </summary>
public static class FederatedSimulation
{
    /// <summary>The id of virtual client <paramref name="index"/>: <c>client-0000</c>, <c>client-0001</c>...</summary>
    /// <param name="index">The client's index.</param>
    /// <returns>The id.</returns>
    public static string ClientId(int index) => "client-" + index.ToString("D4", CultureInfo.InvariantCulture);

    /// <summary>Runs the simulation.</summary>
    /// <param name="clientCount">Number of virtual clients.</param>
    /// <param name="clientFactory">Creates client <c>index</c> on demand (disposed after each call when disposable).</param>
    /// <param name="configureServer">Sets the strategy, initial model, options... The transport is set already.</param>
    /// <param name="transportOptions">Concurrency and fault injection; null for defaults.</param>
    /// <param name="progress">Receives a report after every round.</param>
    /// <param name="cancellationToken">Stops the simulation.</param>
    /// <returns>The final model and the history.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="clientCount"/> is not positive.</exception>
    public static async Task<FederationResult> RunAsync(
        int clientCount,
        Func<int, IClient> clientFactory,
        Action<FederatedServerBuilder> configureServer,
        InMemoryTransportOptions? transportOptions = null,
        IProgress<RoundReport>? progress = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(clientCount);
        ArgumentNullException.ThrowIfNull(clientFactory);
        ArgumentNullException.ThrowIfNull(configureServer);
        var transport = new InMemoryTransport(transportOptions);
        await using ConfiguredAsyncDisposable disposeTransport = transport.ConfigureAwait(false);
        var ids = Enumerable.Range(0, clientCount).Select(ClientId).ToArray();
        var index = ids.Select((id, i) => (id, i)).ToDictionary(p => p.id, p => p.i, StringComparer.Ordinal);
        transport.AddVirtualClients(ids, id => clientFactory(index[id]));
        var builder = new FederatedServerBuilder().UseTransport(transport);
        configureServer(builder);
        FederatedServer server = builder.Build();
        return await server.RunAsync(progress, cancellationToken).ConfigureAwait(false);
    }
}
