using FederatedSharp.Clients;
using FederatedSharp.Parameters;
using FederatedSharp.Serialization;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace FederatedSharp.TorchSharp.Training;

/// <summary>
/// A ready <see cref="IClient"/> that trains a TorchSharp module on local data. Each fit loads the global parameters,
/// creates the optimizer, runs the configured number of local steps (or epochs) of mini-batch training with a seeded
/// batch order, adds the FedProx proximal term <c>mu/2 * ||w - w_global||^2</c> to the loss when mu &gt; 0, and returns
/// the new parameters weighted by the training set size. Evaluation reports the loss and every configured metric on the
/// test data. Training runs on a worker thread, so TorchSharp's thread-bound dispose scopes stay on one thread.
/// </summary>
public sealed partial class TorchTrainerClient : IClient, IDisposable
{
    private readonly TorchTrainerOptions _options;
    private readonly nn.Module<Tensor, Tensor> _module;
    private readonly TorchModelAdapter _adapter;
    private readonly TorchModelAdapter _updateAdapter;
    private readonly HashSet<string> _frozen;
    private readonly PersonalTensors? _personal;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly bool _ownsData;
    private readonly BinaryModelSerializer _serializer = new();
    private const string ControlVariateKey = "scaffold.control_variate";
    private const string DpSgdHistoryKey = "dpsgd.steps";
    private float[]? _controlVariate;
    private float[]? _dittoPersonal;
    private string _dpHistory = "";
    private bool _disposed;

    /// <summary>Creates the client.</summary>
    /// <param name="options">The module, data, loss, optimizer and defaults.</param>
    /// <param name="ownsData">Dispose the module and data sets with the client (default true).</param>
    /// <exception cref="ArgumentException">A required option is missing or out of range.</exception>
    public TorchTrainerClient(TorchTrainerOptions options, bool ownsData = true)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _options = options;
        _module = options.Module!;
        _personal = options.Personalization is { Method: not PersonalizationMethod.None } personalization ? PersonalTensors.Resolve(_module, personalization) : null;
        _adapter = new TorchModelAdapter(_module, includeBuffers: false, excluded: _personal?.ParameterNames);
        _frozen = FrozenNames(options.Frozen, options.Trainable, _adapter.Layout);
        _updateAdapter = _frozen.Count == 0 ? _adapter
            : new TorchModelAdapter(_module, includeBuffers: false, excluded: _frozen.Union(_personal?.ParameterNames ?? []).ToHashSet(StringComparer.Ordinal));
        _ownsData = ownsData;
    }

    /// <summary>
    /// The layout of this client's updates: <see cref="Layout"/> without the <see cref="TorchTrainerOptions.Frozen"/>
    /// parameters (the same as <see cref="Layout"/> when nothing is frozen).
    /// </summary>
    public TensorLayout UpdateLayout => _updateAdapter.Layout;

    /// <summary>The federated part of the module's layout (what the server's initial parameters must match): every parameter but the personal ones.</summary>
    public TensorLayout Layout => _adapter.Layout;

    /// <summary>The module's current parameters.</summary>
    /// <returns>New parameters the caller owns.</returns>
    public ModelParameters GetParameters() => _adapter.ToParameters();

    /// <inheritdoc />
    public Task<ConfigRecord> GetPropertiesAsync(CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        var properties = new ConfigRecord
        {
            ["train_examples"] = (long)_options.Train!.Count,
            ["test_examples"] = (long)(_options.Test ?? _options.Train).Count,
            ["framework"] = "TorchSharp",
        };
        return Task.FromResult(properties.Freeze());
    }

    /// <inheritdoc />
    public async Task<FitResult> FitAsync(FitInstructions instructions, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(instructions);
        ObjectDisposedException.ThrowIf(_disposed, this);
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            return await Task.Run(() => Fit(instructions, cancellationToken), cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <inheritdoc />
    public async Task<EvaluateResult> EvaluateAsync(EvaluateInstructions instructions, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(instructions);
        ObjectDisposedException.ThrowIf(_disposed, this);
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            return await Task.Run(() => EvaluatePersonalised(instructions), cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Evaluates <paramref name="parameters"/> on <paramref name="data"/> (for example a pooled test set).</summary>
    /// <param name="parameters">The parameters to evaluate.</param>
    /// <param name="data">The data; null for the client's test data.</param>
    /// <returns>The loss and metrics.</returns>
    public EvaluateResult Evaluate(ModelParameters parameters, TorchDataSet? data = null)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        ObjectDisposedException.ThrowIf(_disposed, this);
        data ??= _options.Test ?? _options.Train!;
        _adapter.CopyFrom(parameters);
        return EvaluateLoaded(data);
    }

    // Evaluates the module as it is loaded.
    private EvaluateResult EvaluateLoaded(TorchDataSet data)
    {
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        _module.eval();
        Tensor output = _module.forward(data.Features);
        double loss = _options.Loss!(output, data.Targets).item<float>();
        var metrics = new ConfigRecord();
        foreach ((string name, Func<Tensor, Tensor, double> metric) in _options.Metrics)
        {
            metrics[name] = metric(output, data.Targets);
        }

        return new EvaluateResult(loss, data.Count, metrics.Freeze());
    }

    /// <summary>Disposes the module and data sets when the client owns them, after any running fit or evaluation has ended.</summary>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;

        // A call the server abandoned (deadline, federation stopped) may still be training on the worker thread: wait
        // for it to notice its cancellation before freeing the native tensors it uses.
        _gate.Wait();
        if (_ownsData)
        {
            _module.Dispose();
            _options.Train?.Dispose();
            _options.Test?.Dispose();
        }

        _gate.Dispose();
    }

    // The round's settings: the server's configuration, else the options' defaults; refused when out of range.
    private (double Lr, int BatchSize, double Mu, long Steps) RoundSettings(ConfigRecord config)
    {
        double lr = config.GetDouble(ConfigKeys.LearningRate, _options.LearningRate);
        int batchSize = (int)config.GetInt64(ConfigKeys.BatchSize, _options.BatchSize);
        double mu = config.GetDouble(ConfigKeys.ProximalMu, _options.ProximalMu);
        long steps = 0;
        if (batchSize > 0)
        {
            int batchesPerEpoch = (_options.Train!.Count + batchSize - 1) / batchSize;
            steps = config.ContainsKey(ConfigKeys.LocalSteps) || _options.LocalSteps is null
                ? config.GetInt64(ConfigKeys.LocalSteps, config.GetInt64(ConfigKeys.LocalEpochs, _options.LocalEpochs) * batchesPerEpoch)
                : _options.LocalSteps.Value;
        }

        if (batchSize <= 0 || steps <= 0 || !(lr > 0) || !double.IsFinite(lr) || !(mu >= 0) || !double.IsFinite(mu))
        {
            throw new ArgumentException($"Invalid round configuration: batch size {batchSize}, local steps {steps}, learning rate {lr}, proximal mu {mu}.");
        }

        return (lr, batchSize, mu, steps);
    }

    private FitResult Fit(FitInstructions instructions, CancellationToken cancellationToken)
    {
        ConfigRecord config = instructions.Config;
        (double lr, int batchSize, double mu, long steps) = RoundSettings(config);
        TorchDataSet train = _options.Train!;
        using var scope = torch.NewDisposeScope();
        _adapter.CopyFrom(instructions.Parameters);
        _personal?.Restore(instructions.State);
        Parameter[] parameters = _module.parameters().ToArray();
        Tensor[]? anchors = mu > 0 ? parameters.Select(p => p.detach().clone()).ToArray() : null;
        float[]? serverControl = ReadServerControl(config);
        if (serverControl is not null && _personal is not null)
        {
            throw new InvalidOperationException("SCAFFOLD's control variates span the whole model; they cannot be combined with personalisation, whose personal tensors the server never sees.");
        }

        if (serverControl is not null && _frozen.Count > 0)
        {
            throw new InvalidOperationException("SCAFFOLD's control variates span the whole model; they cannot be combined with frozen parameters, which the updates leave out.");
        }

        float[]? localControl = serverControl is null ? null : LoadControlVariate(instructions.State, serverControl.Length);
        Tensor[]? corrections = serverControl is null ? null : ControlCorrections(serverControl, localControl!);
        var metrics = new ConfigRecord();
        if (config.GetBoolean(ConfigKeys.ReportInitialLoss, false))
        {
            using var noGrad = torch.no_grad();
            _module.eval();
            metrics[ConfigKeys.InitialLoss] = (double)_options.Loss!(_module.forward(train.Features), train.Targets).item<float>();
        }

        var run = new LocalRun(instructions.Round, batchSize, lr, mu, anchors, corrections, cancellationToken);
        double lossSum = TrainPersonalHead(run) + RunSteps(run, Unfrozen(MainPhaseParameters(parameters)), steps, salt: 0);

        ModelParameters result = _updateAdapter.ToParameters();
        _personal?.Save(instructions.State);
        TrainDittoPersonal(instructions, run, steps);
        metrics[ConfigKeys.TrainLoss] = lossSum / steps;
        if (_options.DpSgd is { } dpOptions)
        {
            // Batches are drawn without replacement; the accountant treats them as Poisson samples of rate B / n, the
            // usual approximation (Opacus does the same for shuffled loaders).
            if (dpOptions.NoiseMultiplier > 0)
            {
                metrics["dpsgd_epsilon"] = AccountDpSgd(instructions.State, Math.Min(1.0, (double)batchSize / train.Count), dpOptions.NoiseMultiplier, steps, dpOptions.Delta);
            }
            else
            {
                metrics["dpsgd_epsilon"] = double.PositiveInfinity; // clipping without noise gives no DP guarantee
            }
        }

        if (serverControl is not null)
        {
            metrics[ConfigKeys.ScaffoldControlDelta] = ConfigValue.FromBytes(UpdateControlVariate(serverControl, localControl!, instructions.Parameters.Values, result.Values, steps, lr, instructions.State));
        }

        return new FitResult(result, train.Count, metrics.Freeze());
    }

    /// <summary>What one fit's local training shares between its phases.</summary>
    private sealed record LocalRun(int Round, int BatchSize, double Lr, double Mu, Tensor[]? Anchors, Tensor[]? Corrections, CancellationToken CancellationToken);

    // Local mini-batch training of the trainable parameters (the others are frozen) for the given steps, in a seeded
    // batch order per (seed, round, epoch, salt); returns the summed batch losses.
    private double RunSteps(LocalRun run, Parameter[] trainable, long steps, ulong salt)
    {
        TorchDataSet train = _options.Train!;
        Parameter[] all = _module.parameters().ToArray();
        var trainableHandles = trainable.Select(p => p.Handle).ToHashSet();
        var frozen = all.Where(p => !trainableHandles.Contains(p.Handle)).ToArray();
        foreach (Parameter p in frozen)
        {
            p.requires_grad_(false);
        }

        try
        {
            using optim.Optimizer optimizer = _options.OptimizerFactory(trainable, run.Lr);
            _module.train();
            double lossSum = 0;
            var order = new int[train.Count];
            int epoch = -1;
            int position = train.Count;
            for (long step = 0; step < steps; step++)
            {
                run.CancellationToken.ThrowIfCancellationRequested();
                if (position >= train.Count)
                {
                    epoch++;
                    for (int i = 0; i < order.Length; i++)
                    {
                        order[i] = i;
                    }

                    ulong seed = salt == 0 ? DeterministicRandom.Mix(_options.Seed, (ulong)run.Round, (ulong)epoch) : DeterministicRandom.Mix(_options.Seed, (ulong)run.Round, (ulong)epoch, salt);
                    new DeterministicRandom(seed).ShuffleInPlace(order.AsSpan());
                    position = 0;
                }

                int count = Math.Min(run.BatchSize, train.Count - position);
                using var stepScope = torch.NewDisposeScope();
                Tensor index = torch.tensor(order.AsSpan(position, count).ToArray().Select(i => (long)i).ToArray(), ScalarType.Int64);
                position += count;
                Tensor x = train.Features.index_select(0, index);
                Tensor y = train.Targets.index_select(0, index);
                lossSum += Step(optimizer, all, x, y, run.Anchors, run.Corrections, run.Mu, run.Round, step);
            }

            return lossSum;
        }
        finally
        {
            foreach (Parameter p in frozen)
            {
                p.requires_grad_(true);
            }
        }
    }

    // One optimizer step on a batch: DP-SGD's private gradients or the plain loss (with FedProx's proximal term), plus
    // SCAFFOLD's correction; returns the batch's loss.
    private double Step(optim.Optimizer optimizer, Parameter[] parameters, Tensor x, Tensor y, Tensor[]? anchors, Tensor[]? corrections, double mu, int round, long step)
    {
        optimizer.zero_grad();
        if (_options.DpSgd is { } dp)
        {
            double privateLoss = PrivateGradients(dp, parameters, x, y, anchors, mu, round, step);
            AddCorrections(parameters, corrections);
            optimizer.step();
            return privateLoss;
        }

        Tensor loss = _options.Loss!(_module.forward(x), y);
        double batchLoss = loss.item<float>();
        if (anchors is not null)
        {
            loss = loss + (ProximalTerm(parameters, anchors) * (mu / 2));
        }

        loss.backward();
        AddCorrections(parameters, corrections);
        optimizer.step();
        return batchLoss;
    }

    // SCAFFOLD: y = y - lr (g + c - c_i), by adding c - c_i to every gradient.
    private static void AddCorrections(Parameter[] parameters, Tensor[]? corrections)
    {
        if (corrections is null)
        {
            return;
        }

        using var noGrad = torch.no_grad();
        for (int i = 0; i < parameters.Length; i++)
        {
            parameters[i].grad?.add_(corrections[i]);
        }
    }

    // FedProx: ||w - w_global||^2 over every parameter tensor.
    private static Tensor ProximalTerm(Parameter[] parameters, Tensor[] anchors)
    {
        Tensor proximal = torch.zeros(1);
        for (int i = 0; i < parameters.Length; i++)
        {
            proximal = proximal + (parameters[i] - anchors[i]).square().sum();
        }

        return proximal;
    }
}
