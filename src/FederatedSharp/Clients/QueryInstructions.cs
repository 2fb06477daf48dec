using FederatedSharp.Parameters;

namespace FederatedSharp.Clients;

/// <summary>
/// A named query task: the server asks a client a question of its data (statistics, a cross-site evaluation...) with a
/// configuration, and optionally parameters (for example a model to evaluate).
/// </summary>
public sealed class QueryInstructions
{
    /// <summary>Creates instructions.</summary>
    /// <param name="name">The query's name, for example <c>statistics</c>; clients dispatch on it.</param>
    /// <param name="config">The query's configuration.</param>
    /// <param name="parameters">Parameters the query needs; null for none. Owned by the caller.</param>
    /// <exception cref="ArgumentException"><paramref name="name"/> is null or empty.</exception>
    /// <exception cref="ArgumentNullException"><paramref name="config"/> is null.</exception>
    public QueryInstructions(string name, ConfigRecord config, ModelParameters? parameters = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        Name = name;
        Config = config ?? throw new ArgumentNullException(nameof(config));
        Parameters = parameters;
    }

    /// <summary>The query's name.</summary>
    public string Name { get; }

    /// <summary>The query's configuration.</summary>
    public ConfigRecord Config { get; }

    /// <summary>Parameters sent with the query, or null. Read-only for the client; valid until the call returns.</summary>
    public ModelParameters? Parameters { get; }

    /// <summary>The client's persistent state, when the deployment keeps one (see <see cref="ClientState"/>); null otherwise.</summary>
    public ClientState? State { get; init; }
}
