using FederatedSharp.Parameters;

namespace FederatedSharp.Clients;

/// <summary>What the server asks a client to train from.</summary>
public sealed class FitInstructions
{
    /// <summary>Creates instructions.</summary>
    /// <param name="round">The round number (1-based).</param>
    /// <param name="parameters">The global parameters; owned by the caller.</param>
    /// <param name="config">The round's configuration (learning rate, local steps, proximal mu...).</param>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="round"/> is negative.</exception>
    public FitInstructions(int round, ModelParameters parameters, ConfigRecord config)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(round);
        Round = round;
        Parameters = parameters ?? throw new ArgumentNullException(nameof(parameters));
        Config = config ?? throw new ArgumentNullException(nameof(config));
    }

    /// <summary>The round number (1-based).</summary>
    public int Round { get; }

    /// <summary>The global parameters to start from. Read-only for the client; valid until the call returns.</summary>
    public ModelParameters Parameters { get; }

    /// <summary>The round's configuration.</summary>
    public ConfigRecord Config { get; }

    /// <summary>
    /// The client's persistent state, when the deployment keeps one (a simulation's <see cref="ClientStateStore"/>, a
    /// node's storage); null otherwise. Keep what must outlive this call here, not in fields of the client object.
    /// </summary>
    public ClientState? State { get; init; }
}
