using FederatedSharp.Parameters;

namespace FederatedSharp.Clients;

/// <summary>What the server asks a client to evaluate.</summary>
public sealed class EvaluateInstructions
{
    /// <summary>Creates instructions.</summary>
    /// <param name="round">The round number (1-based).</param>
    /// <param name="parameters">The parameters to evaluate; owned by the caller.</param>
    /// <param name="config">The evaluation configuration.</param>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="round"/> is negative.</exception>
    public EvaluateInstructions(int round, ModelParameters parameters, ConfigRecord config)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(round);
        Round = round;
        Parameters = parameters ?? throw new ArgumentNullException(nameof(parameters));
        Config = config ?? throw new ArgumentNullException(nameof(config));
    }

    /// <summary>The round number (1-based).</summary>
    public int Round { get; }

    /// <summary>The parameters to evaluate. Read-only for the client; valid until the call returns.</summary>
    public ModelParameters Parameters { get; }

    /// <summary>The evaluation configuration.</summary>
    public ConfigRecord Config { get; }

    /// <summary>
    /// The client's persistent state, when the deployment keeps one (a simulation's <see cref="ClientStateStore"/>, a
    /// node's storage); null otherwise. Keep what must outlive this call here, not in fields of the client object.
    /// </summary>
    public ClientState? State { get; init; }
}
