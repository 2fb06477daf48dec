using FederatedSharp.Aggregation;
using FederatedSharp.Clients;
using FederatedSharp.Parameters;
using FederatedSharp.Server.Checkpoints;
using FederatedSharp.Transport;
using Microsoft.Extensions.Logging;

namespace FederatedSharp.Server.Engine;

/// <summary>
/// The running federation as features see it: its configuration, clock, logger, the current global model, the history
/// so far, per-client health and the clients' states (when the transport hosts them). One per
/// <see cref="FederatedServer.RunAsync"/>.
/// </summary>
public sealed class FederationContext
{
    private readonly Dictionary<string, ClientHealth> _health = new(StringComparer.Ordinal);

    internal FederationContext(EngineServices services, ModelParameters initial)
    {
        Services = services;
        Global = initial;
    }

    internal EngineServices Services { get; }

    /// <summary>The server's options.</summary>
    public FederatedServerOptions Options => Services.Options;

    /// <summary>The strategy.</summary>
    public IAggregator Aggregator => Services.Aggregator;

    /// <summary>The transport.</summary>
    public ITransport Transport => Services.Transport;

    /// <summary>The server's clock.</summary>
    public TimeProvider TimeProvider => Services.TimeProvider;

    /// <summary>The server's logger.</summary>
    public ILogger Logger => Services.Logger;

    /// <summary>The fingerprint of the configuration (see <see cref="FederatedServer.ConfigurationHash"/>).</summary>
    public ulong ConfigurationHash => Services.ConfigurationHash;

    /// <summary>The clients' persistent states, when the transport hosts them (simulation); null otherwise.</summary>
    public ClientStateStore? ClientStates => Services.ClientStates;

    /// <summary>The current global model (read-only for features; replaced after every successful round).</summary>
    public ModelParameters Global { get; internal set; }

    /// <summary>The history so far.</summary>
    public History History { get; internal set; } = new();

    /// <summary>The last recorded round (0 before the first).</summary>
    public int CompletedRounds { get; internal set; }

    /// <summary>How many rounds in a row produced no model, up to the last recorded one.</summary>
    public int ConsecutiveFailedRounds { get; internal set; }

    /// <summary>Per-client health (consecutive failures, quarantine), checkpointed with the federation.</summary>
    public IDictionary<string, ClientHealth> ClientHealth => _health;

    internal FederationCheckpoint CreateCheckpoint() =>
        new(CompletedRounds, ConfigurationHash, Global.Clone(), Services.Stateful?.ExportState(), History, new Dictionary<string, ClientHealth>(_health), ConsecutiveFailedRounds)
        {
            FeatureStates = Services.Features
                .Select(f => (f.Name, State: f.ExportState(this)))
                .Where(p => p.State is not null)
                .ToDictionary(p => p.Name, p => p.State!, StringComparer.Ordinal),
            ClientStates = ClientStates?.ToBytes(),
        };

    /// <summary>Continues the federation from <paramref name="checkpoint"/>: model, strategy and driver state, history, health, client states.</summary>
    internal void Restore(FederationCheckpoint checkpoint)
    {
        if (checkpoint.ConfigurationHash != ConfigurationHash)
        {
            throw new CheckpointException(
                $"The newest checkpoint (round {checkpoint.Round}) was written by a different federation configuration (fingerprint {checkpoint.ConfigurationHash:x16}, this server {ConfigurationHash:x16}): seed, sampling, round policy, strategy or model layout changed. Use another checkpoint folder or restore the configuration.");
        }

        Global.Layout.EnsureCompatible(checkpoint.Parameters.Layout, "the checkpoint's parameters");
        if (Services.Stateful is { } stateful && checkpoint.AggregatorState is not null)
        {
            stateful.ImportState(checkpoint.AggregatorState);
        }

        foreach (FederationFeature feature in Services.Features)
        {
            if (checkpoint.FeatureStates.TryGetValue(feature.Name, out AggregatorState? state))
            {
                feature.ImportState(this, state);
            }
        }

        if (checkpoint.ClientStates is not null && ClientStates is not null)
        {
            ClientStates.RestoreFrom(checkpoint.ClientStates);
        }

        _health.Clear();
        foreach ((string id, ClientHealth health) in checkpoint.ClientState)
        {
            _health[id] = health;
        }

        ModelParameters previous = Global;
        Global = checkpoint.Parameters.Clone();
        previous.Dispose();
        History = checkpoint.History;
        CompletedRounds = checkpoint.Round;
        ConsecutiveFailedRounds = checkpoint.ConsecutiveFailedRounds;
    }
}
