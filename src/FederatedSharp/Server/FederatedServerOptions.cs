using FederatedSharp.Privacy;

namespace FederatedSharp.Server;

/// <summary>The schedule and tolerances of a federation. Defaults follow Flower's <c>FedAvg</c> strategy where it has one.</summary>
public sealed class FederatedServerOptions
{
    /// <summary>Number of rounds (default 1, as Flower's <c>ServerConfig</c>).</summary>
    public int Rounds { get; set; } = 1;

    /// <summary>Clients that must be connected before a round starts (default 2).</summary>
    public int MinAvailableClients { get; set; } = 2;

    /// <summary>Fraction of available clients asked to train each round (default 1.0).</summary>
    public double FractionFit { get; set; } = 1.0;

    /// <summary>Minimum clients asked to train, and minimum valid updates for a round to succeed (default 2).</summary>
    public int MinFitClients { get; set; } = 2;

    /// <summary>Fraction of available clients asked to evaluate each round; 0 disables federated evaluation (default 1.0).</summary>
    public double FractionEvaluate { get; set; } = 1.0;

    /// <summary>Minimum clients asked to evaluate, and minimum answers for a distributed loss to be recorded (default 2).</summary>
    public int MinEvaluateClients { get; set; } = 2;

    /// <summary>Deadline of one client's fit call (default 10 minutes). A client that has not answered by then is recorded as timed out.</summary>
    public TimeSpan FitTimeout { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>Deadline of one client's evaluate call (default 10 minutes).</summary>
    public TimeSpan EvaluateTimeout { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>The seed of client sampling (default 0). With a fixed seed a simulation replays identically.</summary>
    public ulong Seed { get; set; }

    /// <summary>
    /// Hand updates to the aggregator in sampling order rather than arrival order (default true), so floating-point
    /// sums, and therefore the new model, do not depend on which client answers first. Results that arrive before
    /// their predecessors wait (up to the number of sampled clients); set false for pure arrival-order streaming.
    /// </summary>
    public bool DeterministicAggregationOrder { get; set; } = true;

    /// <summary>
    /// Close the round once this many valid updates are in (the others are cancelled and recorded as
    /// <see cref="ClientFailureKind.NotNeeded"/>); null (default) waits for every sampled client or its deadline. With
    /// <see cref="DeterministicAggregationOrder"/> the first updates in sampling order count, so replays stay exact.
    /// </summary>
    public int? ProceedAfterResults { get; set; }

    /// <summary>Like <see cref="ProceedAfterResults"/>, as a fraction of the sampled clients (rounded up); null (default) for none.</summary>
    public double? ProceedAfterFraction { get; set; }

    /// <summary>Quarantine a client after this many failed fits in a row (exception, timeout, rejected update); 0 (default) disables quarantine.</summary>
    public int QuarantineAfterFailures { get; set; }

    /// <summary>How many rounds a quarantined client is left out of training (default 5).</summary>
    public int QuarantineRounds { get; set; } = 5;

    /// <summary>Stop with a <see cref="FederationFailedException"/> after this many failed rounds in a row (default 5; 0 never stops).</summary>
    public int MaxConsecutiveFailedRounds { get; set; } = 5;

    /// <summary>What every update must pass before it is aggregated.</summary>
    public UpdateValidationOptions Validation { get; set; } = new();

    /// <summary>
    /// The largest fraction of a federation's rounds that may produce no model: when more failed, <see cref="FederatedServer.RunAsync"/>
    /// ends with <see cref="FederationFailedException"/> (whose History holds every round and failure) instead of
    /// returning a model that is not the result of the federation. Default 0.5; 1 disables the check.
    /// </summary>
    public double MaxFailedRoundFraction { get; set; } = 0.5;

    /// <summary>
    /// How many times a client call that failed with an exception (not a timeout or a rejection) is retried within the
    /// round before it counts as failed. Default 0.
    /// </summary>
    public int ClientRetries { get; set; }

    /// <summary>The deadline of a query task (<see cref="FederatedServer.QueryAsync"/>). Default 10 minutes.</summary>
    public TimeSpan QueryTimeout { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>Checks the settings.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A setting is out of range.</exception>
    /// <exception cref="ArgumentException">Settings contradict each other.</exception>
    public void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(Rounds, nameof(Rounds));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(MinFitClients, nameof(MinFitClients));
        ArgumentOutOfRangeException.ThrowIfNegative(MinEvaluateClients, nameof(MinEvaluateClients));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(MinAvailableClients, nameof(MinAvailableClients));
        if (!(FractionFit > 0 && FractionFit <= 1))
        {
            throw new ArgumentOutOfRangeException(nameof(FractionFit), FractionFit, "FractionFit must lie in (0, 1].");
        }

        if (!(FractionEvaluate >= 0 && FractionEvaluate <= 1))
        {
            throw new ArgumentOutOfRangeException(nameof(FractionEvaluate), FractionEvaluate, "FractionEvaluate must lie in [0, 1].");
        }

        if (MinAvailableClients < MinFitClients)
        {
            throw new ArgumentException($"MinAvailableClients ({MinAvailableClients}) must be at least MinFitClients ({MinFitClients}).");
        }

        if (ProceedAfterResults is { } count)
        {
            ArgumentOutOfRangeException.ThrowIfNegativeOrZero(count, nameof(ProceedAfterResults));
        }

        if (ProceedAfterFraction is { } fraction && !(fraction > 0 && fraction <= 1))
        {
            throw new ArgumentOutOfRangeException(nameof(ProceedAfterFraction), fraction, "ProceedAfterFraction must lie in (0, 1].");
        }

        ArgumentOutOfRangeException.ThrowIfNegative(QuarantineAfterFailures, nameof(QuarantineAfterFailures));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(QuarantineRounds, nameof(QuarantineRounds));
        ArgumentOutOfRangeException.ThrowIfNegative(MaxConsecutiveFailedRounds, nameof(MaxConsecutiveFailedRounds));
        if (!(MaxFailedRoundFraction >= 0 && MaxFailedRoundFraction <= 1))
        {
            throw new ArgumentOutOfRangeException(nameof(MaxFailedRoundFraction), MaxFailedRoundFraction, "MaxFailedRoundFraction must lie in [0, 1].");
        }

        ArgumentOutOfRangeException.ThrowIfNegative(ClientRetries, nameof(ClientRetries));
        CheckTimeout(QueryTimeout, nameof(QueryTimeout));
        CheckTimeout(FitTimeout, nameof(FitTimeout));
        CheckTimeout(EvaluateTimeout, nameof(EvaluateTimeout));
        ArgumentNullException.ThrowIfNull(Validation, nameof(Validation));
        Validation.Validate();
    }

    /// <summary>
    /// A deep copy: every value setting is copied by <see cref="object.MemberwiseClone"/> (so a setting added later is
    /// never forgotten) and the validation options are cloned, not shared.
    /// </summary>
    internal FederatedServerOptions Clone()
    {
        var copy = (FederatedServerOptions)MemberwiseClone();
        copy.Validation = Validation.Clone();
        return copy;
    }

    private static void CheckTimeout(TimeSpan timeout, string name)
    {
        if (timeout <= TimeSpan.Zero && timeout != Timeout.InfiniteTimeSpan)
        {
            throw new ArgumentOutOfRangeException(name, timeout, "A timeout must be positive or Timeout.InfiniteTimeSpan.");
        }
    }
}
