using FederatedSharp.Aggregation;
using FederatedSharp.Clients;
using FederatedSharp.Parameters;
using FederatedSharp.Transport;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace FederatedSharp.Server;

/// <summary>
/// Builds a <see cref="FederatedServer"/>: a transport, an aggregation strategy and the initial model are required;
/// everything else has defaults. Settings are validated once, in <see cref="Build"/>.
/// </summary>
public sealed class FederatedServerBuilder
{
    private readonly FederatedServerOptions _options = new();
    private ITransport? _transport;
    private IAggregator? _aggregator;
    private ModelParameters? _initialParameters;
    private Func<int, ConfigRecord>? _fitConfig;
    private Func<int, ConfigRecord>? _evaluateConfig;
    private CentralizedEvaluator? _centralizedEvaluator;
    private ILoggerFactory _loggerFactory = NullLoggerFactory.Instance;
    private TimeProvider _timeProvider = TimeProvider.System;
    private Checkpoints.ICheckpointStore? _checkpoints;
    private Audit.IAuditLog? _audit;
    private Privacy.SecureAggregation.SecureAggregationServer? _secure;
    private BufferedAsyncOptions? _buffered;

    /// <summary>Sets the transport that reaches the clients.</summary>
    /// <param name="transport">The transport.</param>
    /// <returns>This builder.</returns>
    public FederatedServerBuilder UseTransport(ITransport transport)
    {
        _transport = transport ?? throw new ArgumentNullException(nameof(transport));
        return this;
    }

    /// <summary>Sets the aggregation strategy (for example <see cref="FedAvg"/>).</summary>
    /// <param name="aggregator">The strategy.</param>
    /// <returns>This builder.</returns>
    public FederatedServerBuilder UseAggregator(IAggregator aggregator)
    {
        _aggregator = aggregator ?? throw new ArgumentNullException(nameof(aggregator));
        return this;
    }

    /// <summary>Sets the initial global model. The server copies it; the caller keeps ownership.</summary>
    /// <param name="parameters">The initial parameters.</param>
    /// <returns>This builder.</returns>
    public FederatedServerBuilder WithInitialParameters(ModelParameters parameters)
    {
        _initialParameters = parameters ?? throw new ArgumentNullException(nameof(parameters));
        return this;
    }

    /// <summary>Changes the options (rounds, sampling, deadlines, seed...).</summary>
    /// <param name="configure">Edits the options.</param>
    /// <returns>This builder.</returns>
    public FederatedServerBuilder Configure(Action<FederatedServerOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(configure);
        configure(_options);
        return this;
    }

    /// <summary>Sets the per-round fit configuration (learning rate, local steps...), Flower's <c>on_fit_config_fn</c>.</summary>
    /// <param name="provider">Returns the configuration of a round; the server copies it and adds the strategy's keys.</param>
    /// <returns>This builder.</returns>
    public FederatedServerBuilder WithFitConfig(Func<int, ConfigRecord> provider)
    {
        _fitConfig = provider ?? throw new ArgumentNullException(nameof(provider));
        return this;
    }

    /// <summary>Sets the per-round evaluation configuration, Flower's <c>on_evaluate_config_fn</c>.</summary>
    /// <param name="provider">Returns the configuration of a round.</param>
    /// <returns>This builder.</returns>
    public FederatedServerBuilder WithEvaluateConfig(Func<int, ConfigRecord> provider)
    {
        _evaluateConfig = provider ?? throw new ArgumentNullException(nameof(provider));
        return this;
    }

    /// <summary>Evaluates the global model on server-side data after every round.</summary>
    /// <param name="evaluator">The evaluator.</param>
    /// <returns>This builder.</returns>
    public FederatedServerBuilder WithCentralizedEvaluation(CentralizedEvaluator evaluator)
    {
        _centralizedEvaluator = evaluator ?? throw new ArgumentNullException(nameof(evaluator));
        return this;
    }

    /// <summary>Sets the logger factory (default: no logging).</summary>
    /// <param name="loggerFactory">The factory.</param>
    /// <returns>This builder.</returns>
    public FederatedServerBuilder UseLoggerFactory(ILoggerFactory loggerFactory)
    {
        _loggerFactory = loggerFactory ?? throw new ArgumentNullException(nameof(loggerFactory));
        return this;
    }

    /// <summary>Sets the clock used for deadlines (default: the system clock; tests pass a fake).</summary>
    /// <param name="timeProvider">The clock.</param>
    /// <returns>This builder.</returns>
    public FederatedServerBuilder UseTimeProvider(TimeProvider timeProvider)
    {
        _timeProvider = timeProvider ?? throw new ArgumentNullException(nameof(timeProvider));
        return this;
    }

    /// <summary>
    /// Checkpoints the federation after every round into <paramref name="store"/>, and resumes from its newest valid
    /// checkpoint when the server starts (see docs/reliability.md).
    /// </summary>
    /// <param name="store">The store, for example a <see cref="Checkpoints.FileCheckpointStore"/>.</param>
    /// <returns>This builder.</returns>
    public FederatedServerBuilder UseCheckpointStore(Checkpoints.ICheckpointStore store)
    {
        _checkpoints = store ?? throw new ArgumentNullException(nameof(store));
        return this;
    }

    /// <summary>
    /// Aggregates every round with secure aggregation (see <see cref="Privacy.SecureAggregation.SecureAggregationServer"/>):
    /// the server learns only the example-weighted mean of the clipped updates. Clients must be wrapped in
    /// <see cref="Privacy.SecureAggregation.SecureAggregationClient"/>. The strategy is FedAvg (set implicitly); update
    /// validation and robust strategies cannot apply, since the server never sees an individual update; clients that drop
    /// out are recorded as failures; a round with fewer than the threshold left fails and the federation goes on.
    /// </summary>
    /// <param name="options">Threshold, clip norm, central noise; null for defaults.</param>
    /// <returns>This builder.</returns>
    public FederatedServerBuilder UseSecureAggregation(Privacy.SecureAggregation.SecureAggregationOptions? options = null)
    {
        _secure = new Privacy.SecureAggregation.SecureAggregationServer(options);
        _aggregator ??= new Aggregation.FedAvg();
        return this;
    }

    /// <summary>
    /// Appends a record of every round to <paramref name="log"/>: the global model's SHA-256, the clients whose updates
    /// went in, the clients left out and why, the strategy's reported parameters and the privacy budget spent, each
    /// record chained to the one before by its hash (see <see cref="Audit.FileAuditLog"/>).
    /// </summary>
    /// <param name="log">The log, for example a <see cref="Audit.FileAuditLog"/>.</param>
    /// <returns>This builder.</returns>
    public FederatedServerBuilder UseAuditLog(Audit.IAuditLog log)
    {
        _audit = log ?? throw new ArgumentNullException(nameof(log));
        return this;
    }

    /// <summary>
    /// Runs the federation in buffered asynchronous mode (FedBuff) instead of synchronous rounds: see
    /// <see cref="BufferedAsyncOptions"/>. The strategy configures clients (for example FedProx's mu) but the server
    /// update is FedBuff's; checkpointing is not available in this mode.
    /// </summary>
    /// <param name="configure">Edits the FedBuff settings.</param>
    /// <returns>This builder.</returns>
    public FederatedServerBuilder UseBufferedAsynchronousAggregation(Action<BufferedAsyncOptions>? configure = null)
    {
        _buffered = new BufferedAsyncOptions();
        configure?.Invoke(_buffered);
        return this;
    }

    /// <summary>Validates the settings and creates the server.</summary>
    /// <returns>The server.</returns>
    /// <exception cref="InvalidOperationException">The transport, the strategy or the initial parameters is missing.</exception>
    /// <exception cref="ArgumentException">An option is out of range or contradicts another.</exception>
    public FederatedServer Build()
    {
        if (_transport is null)
        {
            throw new InvalidOperationException("No transport: call UseTransport (for simulation, an InMemoryTransport).");
        }

        if (_aggregator is null)
        {
            throw new InvalidOperationException("No aggregation strategy: call UseAggregator (for example new FedAvg()).");
        }

        if (_initialParameters is null)
        {
            throw new InvalidOperationException("No initial model: call WithInitialParameters.");
        }

        _options.Validate();
        _buffered?.Validate();
        if (_secure is not null && (_buffered is not null || _aggregator is not Aggregation.FedAvg))
        {
            throw new ArgumentException("Secure aggregation computes the example-weighted mean (FedAvg) in synchronous rounds; it does not combine with another strategy or with buffered asynchronous aggregation.");
        }

        if (_buffered is not null && _checkpoints is not null)
        {
            throw new InvalidOperationException("Checkpointing is available with synchronous rounds only, not with buffered asynchronous aggregation.");
        }

        return new FederatedServer(_transport, _aggregator, _initialParameters.Clone(), CopyOptions(_options),
            _fitConfig, _evaluateConfig, _centralizedEvaluator, _loggerFactory.CreateLogger<FederatedServer>(), _timeProvider, _checkpoints, _buffered, _audit, _secure);
    }

    private static FederatedServerOptions CopyOptions(FederatedServerOptions o)
    {
        var copy = new FederatedServerOptions();
        o.CopyTo(copy);
        return copy;
    }
}
