namespace FederatedSharp.Transport;

/// <summary>
/// How the server reaches clients: it tracks which clients are connected and hands out an
/// <see cref="IClientConnection"/> per client. The in-memory transport (simulation) and the gRPC transport implement
/// the same contract; integrators implement it for their own channels.
/// </summary>
public interface ITransport : IAsyncDisposable
{
    /// <summary>The clients connected now, sorted by ordinal id (a snapshot).</summary>
    /// <returns>The client ids.</returns>
    IReadOnlyList<string> GetAvailableClients();

    /// <summary>Completes once at least <paramref name="minimum"/> clients are connected.</summary>
    /// <param name="minimum">How many clients to wait for.</param>
    /// <param name="cancellationToken">Stops waiting.</param>
    /// <returns>A task that completes when enough clients are connected.</returns>
    Task WaitForClientsAsync(int minimum, CancellationToken cancellationToken = default);

    /// <summary>The connection to client <paramref name="clientId"/>.</summary>
    /// <param name="clientId">A connected client's id.</param>
    /// <returns>The connection.</returns>
    /// <exception cref="UnknownClientException">No connected client has that id.</exception>
    IClientConnection GetConnection(string clientId);
}
