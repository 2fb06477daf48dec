namespace FederatedSharp.Server.Engine;

/// <summary>
/// A feature of the federation: checkpoints, the audit log, quarantine, central DP, FedBuff, secure aggregation, or
/// your own. The builder holds a list of features (<see cref="FederatedServerBuilder.UseFeature"/>), gives each the
/// chance to validate the configuration and register update stages at <see cref="FederatedServerBuilder.Build"/>
/// (<see cref="OnBuild"/>), and the engine calls the hooks at the phases of every run. Hooks of several features run in
/// ascending <see cref="Order"/>, then registration order. A feature never edits another: it sees the federation
/// through <see cref="FederationContext"/>. Every hook has a no-op default; override only what you need. See
/// docs/howto-write-a-feature.md.
/// </summary>
public abstract class FederationFeature
{
    /// <summary>The feature's name (for error messages and logs).</summary>
    public abstract string Name { get; }

    /// <summary>When the feature's hooks run relative to other features' (ascending; default 0). See <see cref="FeatureOrder"/>.</summary>
    public virtual int Order => FeatureOrder.Default;

    /// <summary>At build time: validate the configuration (throw <see cref="ArgumentException"/> or <see cref="InvalidOperationException"/> naming the problem) and register update stages.</summary>
    /// <param name="context">The configuration being built.</param>
    public virtual void OnBuild(FeatureBuildContext context)
    {
    }

    /// <summary>Before the first round of a run (resume from a checkpoint, open resources).</summary>
    /// <param name="context">The federation.</param>
    /// <param name="cancellationToken">Stops the federation.</param>
    /// <returns>A task that completes when the feature is ready.</returns>
    public virtual ValueTask OnStartingAsync(FederationContext context, CancellationToken cancellationToken) => default;

    /// <summary>
    /// When a round starts, before its driver runs. What it returns (a trace span, a timer) is disposed when the round
    /// ends, whether it succeeded, failed or was cancelled.
    /// </summary>
    /// <param name="context">The federation.</param>
    /// <param name="round">The round being started.</param>
    /// <returns>A scope to dispose at the end of the round, or null.</returns>
    public virtual IDisposable? OnRoundStarting(FederationContext context, int round) => null;

    /// <summary>While selecting a round's clients: narrows the clients a round may use (quarantine, eligibility).</summary>
    /// <param name="context">The federation.</param>
    /// <param name="round">The round being started.</param>
    /// <param name="available">The candidates so far, sorted by ordinal id.</param>
    /// <returns>The candidates this feature allows (a subset of <paramref name="available"/>).</returns>
    public virtual IReadOnlyList<string> FilterClients(FederationContext context, int round, IReadOnlyList<string> available) => available;

    /// <summary>
    /// While a round's fit configuration is made (after the user's keys and the strategy's): adds the keys this
    /// feature asks clients for (for example sparse updates' fraction). The record is frozen after every feature.
    /// </summary>
    /// <param name="round">The round.</param>
    /// <param name="config">The configuration to add to.</param>
    public virtual void ConfigureFit(int round, Clients.ConfigRecord config)
    {
    }

    /// <summary>
    /// Around every fit task sent to a client, in every round driver (synchronous, FedBuff, secure aggregation): may
    /// replace the instructions this one client receives (for example a delta against the model it already holds) and
    /// look at its result or failure. Features form a chain in <see cref="Order"/>; call <paramref name="next"/> once,
    /// dispose what you created, and let exceptions through. The default calls <paramref name="next"/> unchanged.
    /// </summary>
    /// <param name="clientId">The client.</param>
    /// <param name="instructions">The instructions the round made (shared by the round's clients: do not mutate).</param>
    /// <param name="next">Sends instructions on: the next feature, then the transport.</param>
    /// <param name="cancellationToken">The task's deadline and the round's cancellation.</param>
    /// <returns>The client's result.</returns>
    public virtual Task<Clients.FitResult> InvokeFitAsync(string clientId, Clients.FitInstructions instructions, FitInvoker next, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(next);
        return next(instructions, cancellationToken);
    }

    /// <summary>After a round is recorded in the history (the new model is <see cref="FederationContext.Global"/>).</summary>
    /// <param name="context">The federation.</param>
    /// <param name="record">The round's record.</param>
    /// <param name="cancellationToken">Stops the federation.</param>
    /// <returns>A task that completes when the feature is done with the round.</returns>
    public virtual ValueTask OnRoundCompletedAsync(FederationContext context, RoundRecord record, CancellationToken cancellationToken) => default;

    /// <summary>The feature's state to checkpoint (saved under <see cref="Name"/>); null for none.</summary>
    /// <param name="context">The federation.</param>
    /// <returns>A copy of the state, or null.</returns>
    public virtual Aggregation.AggregatorState? ExportState(FederationContext context) => null;

    /// <summary>Restores a state written by <see cref="ExportState"/> when the federation resumes.</summary>
    /// <param name="context">The federation.</param>
    /// <param name="state">The state.</param>
    public virtual void ImportState(FederationContext context, Aggregation.AggregatorState state)
    {
    }
}

/// <summary>Sends a fit task on to the next feature, then to the client (see <see cref="FederationFeature.InvokeFitAsync"/>).</summary>
/// <param name="instructions">The instructions the client receives.</param>
/// <param name="cancellationToken">The task's deadline and the round's cancellation.</param>
/// <returns>The client's result.</returns>
public delegate Task<Clients.FitResult> FitInvoker(Clients.FitInstructions instructions, CancellationToken cancellationToken);

/// <summary>The <see cref="FederationFeature.Order"/> of the built-in features; leave gaps for your own.</summary>
public static class FeatureOrder
{
    /// <summary>Telemetry: its round span encloses every other feature's hooks.</summary>
    public const int Telemetry = -200;

    /// <summary>Policies that update per-client bookkeeping from a round's outcome (quarantine).</summary>
    public const int Policy = -100;

    /// <summary>The default.</summary>
    public const int Default = 0;

    /// <summary>Checkpoints: after every policy has updated its state.</summary>
    public const int Checkpoints = 800;

    /// <summary>The audit log: after the checkpoint is written.</summary>
    public const int Audit = 900;
}
