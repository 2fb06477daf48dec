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

    /// <summary>
    /// Runs the simulation with virtual clients: <paramref name="clientFactory"/> creates a client for every call and the
    /// simulation disposes it after the call (it created it). State that must outlive a call (SCAFFOLD's control
    /// variate, a DP-SGD accountant) belongs in <see cref="FitInstructions.State"/>, which the simulation keeps per client
    /// id and checkpoints with the server; a factory that hands out the same object twice is refused with a clear
    /// failure. For long-lived client objects use the overload that takes the clients.
    /// </summary>
    /// <param name="clientCount">Number of virtual clients.</param>
    /// <param name="clientFactory">Creates client <c>index</c> for one call.</param>
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
        return await RunAsync(transport, configureServer, progress, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Runs the simulation with long-lived clients: client <c>i</c> is <paramref name="clients"/>[i] (id
    /// <see cref="ClientId"/>(i)) for the whole federation. The simulation never disposes them: they are the caller's.
    /// They receive the same per-client <see cref="FitInstructions.State"/> as virtual clients, so a client that keeps its
    /// state there gives the same result either way.
    /// </summary>
    /// <param name="clients">The clients.</param>
    /// <param name="configureServer">Sets the strategy, initial model, options... The transport is set already.</param>
    /// <param name="transportOptions">Concurrency and fault injection; null for defaults.</param>
    /// <param name="progress">Receives a report after every round.</param>
    /// <param name="cancellationToken">Stops the simulation.</param>
    /// <returns>The final model and the history.</returns>
    /// <exception cref="ArgumentException"><paramref name="clients"/> is empty or holds a null.</exception>
    public static async Task<FederationResult> RunAsync(
        IReadOnlyList<IClient> clients,
        Action<FederatedServerBuilder> configureServer,
        InMemoryTransportOptions? transportOptions = null,
        IProgress<RoundReport>? progress = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(clients);
        ArgumentNullException.ThrowIfNull(configureServer);
        if (clients.Count == 0 || clients.Any(c => c is null))
        {
            throw new ArgumentException("A simulation needs at least one client, and no null client.", nameof(clients));
        }

        var transport = new InMemoryTransport(transportOptions);
        await using ConfiguredAsyncDisposable disposeTransport = transport.ConfigureAwait(false);
        for (int i = 0; i < clients.Count; i++)
        {
            transport.AddClient(ClientId(i), clients[i]);
        }

        return await RunAsync(transport, configureServer, progress, cancellationToken).ConfigureAwait(false);
    }

    private static async Task<FederationResult> RunAsync(
        InMemoryTransport transport, Action<FederatedServerBuilder> configureServer, IProgress<RoundReport>? progress, CancellationToken cancellationToken)
    {
        var builder = new FederatedServerBuilder().UseTransport(transport);
        configureServer(builder);
        FederatedServer server = builder.Build();
        return await server.RunAsync(progress, cancellationToken).ConfigureAwait(false);
    }
}
