using System.Globalization;
using FederatedSharp.Aggregation;
using FederatedSharp.Clients;
using FederatedSharp.Parameters;
using FederatedSharp.Server.Engine;
using FederatedSharp.Server.Engine.Drivers;
using FederatedSharp.Server.Features.Quarantine;
using FederatedSharp.Server.Features.Telemetry;
using FederatedSharp.Server.Features.Validation;
using FederatedSharp.Transport;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace FederatedSharp.Server;

/// <summary>
/// Builds a <see cref="FederatedServer"/>: a transport, an aggregation strategy and the initial model are required;
/// everything else has defaults. Features (checkpoints, audit log, central DP, FedBuff, secure aggregation, your own)
/// are held in a list, as Polly's pipeline builder holds its strategies, and each is validated once, in
/// <see cref="Build"/>.
/// </summary>
public sealed class FederatedServerBuilder
{
    private FederatedServerOptions _options = new();
    private ITransport? _transport;
    private IAggregator? _aggregator;
    private ModelParameters? _initialParameters;
    private Func<int, ConfigRecord>? _fitConfig;
    private Func<int, ConfigRecord>? _evaluateConfig;
    private CentralizedEvaluator? _centralizedEvaluator;
    private ILoggerFactory _loggerFactory = NullLoggerFactory.Instance;
    private TimeProvider _timeProvider = TimeProvider.System;
    private readonly List<FederationFeature> _features = new();
    private readonly MetricAggregationOptions _metrics = new();

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

    /// <summary>Sets the strategy called <paramref name="name"/> (see <see cref="Aggregators.Names"/>), for example from configuration.</summary>
    /// <param name="name">The strategy's name, for example <c>fedadam</c>.</param>
    /// <param name="hyperparameters">Hyperparameters by Flower's names; null for the defaults.</param>
    /// <returns>This builder.</returns>
    /// <exception cref="ArgumentException">No strategy has that name, or a hyperparameter is invalid.</exception>
    public FederatedServerBuilder UseAggregator(string name, ConfigRecord? hyperparameters = null) =>
        UseAggregator(Aggregators.Create(name, hyperparameters));

    /// <summary>
    /// Sets the initial global model. The builder copies it at once, so the caller keeps ownership and may dispose it
    /// right after this call (as a DI callback that creates the model does); each built server gets its own copy.
    /// </summary>
    /// <param name="parameters">The initial parameters.</param>
    /// <returns>This builder.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="parameters"/> is null.</exception>
    public FederatedServerBuilder WithInitialParameters(ModelParameters parameters)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        ModelParameters copy = parameters.Clone();
        _initialParameters?.Dispose();
        _initialParameters = copy;
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

    /// <summary>
    /// Starts from a copy of <paramref name="options"/> (for example options bound from configuration), replacing
    /// what <see cref="Configure"/> set so far; later <see cref="Configure"/> calls edit the copy.
    /// </summary>
    /// <param name="options">The options to start from; the builder copies them, the caller keeps ownership.</param>
    /// <returns>This builder.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="options"/> is null.</exception>
    public FederatedServerBuilder UseOptions(FederatedServerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options.Clone();
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
    /// Adds a feature (see <see cref="FederationFeature"/>): the built-in ones come through their <c>UseX</c>
    /// extensions (<c>UseCheckpointStore</c>, <c>UseAuditLog</c>, <c>UseCentralDp</c>, <c>UseSecureAggregation</c>,
    /// <c>UseBufferedAsynchronousAggregation</c>); yours through this method. Features are validated at
    /// <see cref="Build"/>.
    /// </summary>
    /// <param name="feature">The feature.</param>
    /// <returns>This builder.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="feature"/> is null.</exception>
    public FederatedServerBuilder UseFeature(FederationFeature feature)
    {
        _features.Add(feature ?? throw new ArgumentNullException(nameof(feature)));
        return this;
    }

    /// <summary>Chooses how clients' metrics become a round's metrics, per metric, for fit and evaluation (default: example-weighted mean).</summary>
    /// <param name="configure">Edits the choices.</param>
    /// <returns>This builder.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="configure"/> is null.</exception>
    public FederatedServerBuilder WithMetricAggregation(Action<MetricAggregationOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(configure);
        configure(_metrics);
        return this;
    }

    /// <summary>The features added so far, in the order added.</summary>
    public IReadOnlyList<FederationFeature> Features => _features;

    /// <summary>The strategy a feature uses when the caller sets none (secure aggregation defaults to FedAvg).</summary>
    internal IAggregator? DefaultAggregator { get; set; }

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

        IAggregator aggregator = _aggregator ?? DefaultAggregator
            ?? throw new InvalidOperationException("No aggregation strategy: call UseAggregator (for example new FedAvg()).");
        if (_initialParameters is null)
        {
            throw new InvalidOperationException("No initial model: call WithInitialParameters.");
        }

        return BuildServer(aggregator, _initialParameters, queryOnly: false);
    }

    /// <summary>
    /// Builds a server for query tasks only (<see cref="FederatedServer.QueryAsync"/>: federated analytics, evaluating
    /// given models): it needs a transport but no strategy and no model, and its <see cref="FederatedServer.RunAsync"/>
    /// throws. Options, logging, the clock and features apply as in <see cref="Build"/>.
    /// </summary>
    /// <returns>The server.</returns>
    /// <exception cref="InvalidOperationException">The transport is missing.</exception>
    /// <exception cref="ArgumentException">An option is out of range or contradicts another.</exception>
    public FederatedServer BuildForQueries()
    {
        if (_transport is null)
        {
            throw new InvalidOperationException("No transport: call UseTransport (for simulation, an InMemoryTransport).");
        }

        using ModelParameters none = ModelParameters.Create(TensorLayout.Create());
        return BuildServer(_aggregator ?? DefaultAggregator ?? new FedAvg(), _initialParameters ?? none, queryOnly: true);
    }

    private FederatedServer BuildServer(IAggregator aggregator, ModelParameters initialParameters, bool queryOnly)
    {
        _options.Validate();
        _metrics.Validate();
        FederatedServerOptions options = _options.Clone();
        ILogger logger = _loggerFactory.CreateLogger<FederatedServer>();

        // Every server traces rounds, validates updates and counts client failures (quarantine when configured); then the
        // caller's features. Hooks run in Order, then in this order.
        FederationFeature[] features = new FederationFeature[] { new TelemetryFeature(), new UpdateValidationFeature(options.Validation), new QuarantineFeature() }
            .Concat(_features)
            .Select((f, i) => (f, i))
            .OrderBy(p => p.f.Order)
            .ThenBy(p => p.i)
            .Select(p => p.f)
            .ToArray();
        var context = new FeatureBuildContext(options, aggregator, _transport!, features);
        foreach (FederationFeature feature in features)
        {
            feature.OnBuild(context);
        }

        ModelParameters initial = initialParameters.Clone();
        RoundDriver driver = context.Driver ?? new SynchronousRounds();
        return new FederatedServer(new EngineServices
        {
            Options = options,
            Aggregator = aggregator,
            Transport = _transport!,
            QueryOnly = queryOnly,
            InitialParameters = initial,
            TimeProvider = _timeProvider,
            Logger = logger,
            Caller = new ClientCaller(_transport!, _timeProvider, logger, options.ClientRetries),
            Features = features,
            Stages = context.Stages,
            Driver = driver,
            Metrics = _metrics.Copy(),
            FitConfig = _fitConfig,
            EvaluateConfig = _evaluateConfig,
            CentralizedEvaluator = _centralizedEvaluator,
            ConfigurationHash = ComputeConfigurationHash(options, aggregator, initial.Layout, driver),
        });
    }

    // How rounds run is part of the fingerprint (FedBuff's or secure rounds' checkpoints cannot resume synchronous
    // rounds, or the other way round); synchronous rounds add nothing, so their fingerprints are those of earlier versions.
    private static ulong ComputeConfigurationHash(FederatedServerOptions o, IAggregator aggregator, TensorLayout layout, RoundDriver driver)
    {
        string text = string.Join("|",
            o.Seed, o.FractionFit.ToString("R", CultureInfo.InvariantCulture), o.MinFitClients,
            o.FractionEvaluate.ToString("R", CultureInfo.InvariantCulture), o.MinEvaluateClients,
            o.MinAvailableClients, o.DeterministicAggregationOrder, o.ProceedAfterResults, o.ProceedAfterFraction,
            o.QuarantineAfterFailures, o.QuarantineRounds, aggregator.GetType().FullName, aggregator.Name, layout.Hash);
        if (driver is not SynchronousRounds)
        {
            text += "|" + driver.Describe(aggregator);
        }

        return System.IO.Hashing.XxHash64.HashToUInt64(System.Text.Encoding.UTF8.GetBytes(text));
    }
}
