using FederatedSharp.Transport;

namespace FederatedSharp.Tests.TestUtilities;

/// <summary>Forwards to a transport and reports when the server starts waiting for clients, and how many it waits for.</summary>
public sealed class WaitObservingTransport(ITransport inner) : ITransport
{
    private readonly TaskCompletionSource<int> _waiting = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Completes with the minimum of the first wait that could not complete at once.</summary>
    public Task<int> Waiting => _waiting.Task;

    public IReadOnlyList<string> GetAvailableClients() => inner.GetAvailableClients();

    public Task WaitForClientsAsync(int minimum, CancellationToken cancellationToken = default)
    {
        Task wait = inner.WaitForClientsAsync(minimum, cancellationToken);
        if (!wait.IsCompleted)
        {
            _waiting.TrySetResult(minimum);
        }

        return wait;
    }

    public IClientConnection GetConnection(string clientId) => inner.GetConnection(clientId);

    public ValueTask DisposeAsync() => inner.DisposeAsync();
}
