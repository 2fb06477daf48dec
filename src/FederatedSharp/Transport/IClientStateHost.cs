using FederatedSharp.Clients;

namespace FederatedSharp.Transport;

/// <summary>
/// Declared by a transport that hosts its clients' persistent state (the in-memory transport of a simulation): the
/// server then saves <see cref="ClientStates"/> in its checkpoints and restores it on resume. A networked transport does
/// not implement it: there each client keeps its own state at its site.
/// </summary>
public interface IClientStateHost
{
    /// <summary>The clients' states, keyed by client id.</summary>
    ClientStateStore ClientStates { get; }
}
