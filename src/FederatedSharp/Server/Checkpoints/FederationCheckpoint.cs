using FederatedSharp.Aggregation;
using FederatedSharp.Parameters;

namespace FederatedSharp.Server.Checkpoints;

/// <summary>
/// Everything a server needs to continue a federation exactly where it stopped: the global parameters after
/// <see cref="Round"/>, the strategy's state, the history, the per-client failure counters and quarantine, and the
/// fingerprint of the configuration that produced it. Sampling needs no saved generator state: it is a pure function
/// of (seed, round). Owns <see cref="Parameters"/>.
/// </summary>
public sealed class FederationCheckpoint : IDisposable
{
    /// <summary>Creates a checkpoint.</summary>
    /// <param name="round">The last completed round.</param>
    /// <param name="configurationHash">The configuration fingerprint (see <see cref="FederatedServer.ConfigurationHash"/>).</param>
    /// <param name="parameters">The global parameters (ownership passes to the checkpoint).</param>
    /// <param name="aggregatorState">The strategy's state, or null for stateless strategies.</param>
    /// <param name="history">The history up to <paramref name="round"/>.</param>
    /// <param name="clientState">Failure counters and quarantine, by client id.</param>
    /// <param name="consecutiveFailedRounds">Failed rounds in a row at the end of <paramref name="round"/>.</param>
    public FederationCheckpoint(int round, ulong configurationHash, ModelParameters parameters, AggregatorState? aggregatorState, History history,
        IReadOnlyDictionary<string, ClientHealth> clientState, int consecutiveFailedRounds)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(round);
        Round = round;
        ConfigurationHash = configurationHash;
        Parameters = parameters ?? throw new ArgumentNullException(nameof(parameters));
        AggregatorState = aggregatorState;
        History = history ?? throw new ArgumentNullException(nameof(history));
        ClientState = clientState ?? throw new ArgumentNullException(nameof(clientState));
        ConsecutiveFailedRounds = consecutiveFailedRounds;
    }

    /// <summary>The last completed round.</summary>
    public int Round { get; }

    /// <summary>The configuration fingerprint.</summary>
    public ulong ConfigurationHash { get; }

    /// <summary>The global parameters after <see cref="Round"/>.</summary>
    public ModelParameters Parameters { get; }

    /// <summary>The strategy's state.</summary>
    public AggregatorState? AggregatorState { get; }

    /// <summary>The history.</summary>
    public History History { get; }

    /// <summary>Per-client failure counters and quarantine.</summary>
    public IReadOnlyDictionary<string, ClientHealth> ClientState { get; }

    /// <summary>Failed rounds in a row.</summary>
    public int ConsecutiveFailedRounds { get; }

    /// <summary>
    /// The features' states by feature name (FedBuff's in-flight work and model snapshots, central DP's accountant);
    /// empty when no feature keeps state.
    /// </summary>
    public IReadOnlyDictionary<string, AggregatorState> FeatureStates { get; init; } = new Dictionary<string, AggregatorState>();

    /// <summary>The clients' persistent states (<see cref="Clients.ClientStateStore.ToBytes"/>), when the transport hosts them; null otherwise.</summary>
    public byte[]? ClientStates { get; init; }

    /// <summary>Releases the parameters.</summary>
    public void Dispose() => Parameters.Dispose();
}

/// <summary>A client's recent reliability: fit failures in a row and the round its quarantine ends (0 when not quarantined).</summary>
/// <param name="ConsecutiveFailures">Fit failures in a row.</param>
/// <param name="QuarantinedUntilRound">The client is not sampled up to and including this round.</param>
public readonly record struct ClientHealth(int ConsecutiveFailures, int QuarantinedUntilRound);
