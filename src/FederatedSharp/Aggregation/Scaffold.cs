using FederatedSharp.Aggregation.Kernels;
using FederatedSharp.Clients;
using FederatedSharp.Parameters;
using FederatedSharp.Serialization;

namespace FederatedSharp.Aggregation;

/// <summary>
/// SCAFFOLD (Karimireddy et al. 2020, "SCAFFOLD: Stochastic Controlled Averaging for Federated Learning"). Clients
/// correct every local step with control variates, <c>y = y - eta_l (g(y) + c - c_i)</c>, then update their own variate
/// (option II) <c>c_i+ = c_i - c + (x - y) / (K eta_l)</c> and return <c>dc_i = c_i+ - c_i</c> with their model. The
/// server moves <c>x = x + eta_g (avg(y) - x)</c> (avg example-weighted, as FLamby) and <c>c = c + (1/N) sum dc_i</c>
/// with N the number of available clients. The server variate travels to clients in the fit configuration
/// (<see cref="ConfigKeys.ScaffoldServerControl"/>) and the change comes back as a fit metric
/// (<see cref="ConfigKeys.ScaffoldControlDelta"/>), both in <see cref="BinaryModelSerializer"/> format, so any transport
/// carries them. FederatedSharp.TorchSharp's trainer applies the client side. The server variate is checkpointable
/// state. Memory: O(model) on the server; each client keeps its own variate between rounds.
/// </summary>
public sealed class Scaffold : IStatefulAggregator
{
    private readonly object _gate = new();
    private readonly BinaryModelSerializer _serializer = new();
    private float[]? _control;
    private TensorLayout? _layout;

    /// <summary>Creates the strategy.</summary>
    /// <param name="serverLearningRate">Global step size eta_g (default 1.0, FLamby's setting).</param>
    /// <exception cref="ArgumentOutOfRangeException">The learning rate is not positive.</exception>
    public Scaffold(double serverLearningRate = 1.0)
    {
        Hyperparameters.Positive(serverLearningRate, nameof(serverLearningRate));
        ServerLearningRate = serverLearningRate;
    }

    /// <summary>Global step size.</summary>
    public double ServerLearningRate { get; }

    /// <inheritdoc />
    public string Name => "Scaffold";

    /// <summary>A copy of the server control variate, or null before the first round completed.</summary>
    /// <returns>The values.</returns>
    public float[]? GetServerControl()
    {
        lock (_gate)
        {
            return (float[]?)_control?.Clone();
        }
    }

    /// <inheritdoc />
    public void ConfigureFit(int round, ConfigRecord config)
    {
        ArgumentNullException.ThrowIfNull(config);
        lock (_gate)
        {
            if (_control is not null)
            {
                using ModelParameters c = ModelParameters.FromValues(_layout!, _control);
                config[ConfigKeys.ScaffoldServerControl] = ConfigValue.FromBytes(_serializer.SerializeToArray(c));
            }
            else
            {
                config[ConfigKeys.ScaffoldServerControl] = ConfigValue.FromBytes(ReadOnlySpan<byte>.Empty);
            }
        }
    }

    /// <inheritdoc />
    public IRoundAggregator BeginRound(ModelParameters globalParameters, AggregationContext context)
    {
        ArgumentNullException.ThrowIfNull(globalParameters);
        return new Round(this, globalParameters, Math.Max(context.AvailableClients, context.SampledClients));
    }

    /// <inheritdoc />
    public AggregatorState ExportState()
    {
        lock (_gate)
        {
            return AggregatorState.WithTensor(Name, _layout, "c", _control);
        }
    }

    /// <inheritdoc />
    public void ImportState(AggregatorState state)
    {
        ArgumentNullException.ThrowIfNull(state);
        state.EnsureFor(Name, null);
        lock (_gate)
        {
            _layout = state.Layout;
            _control = state.CopyTensor("c");
        }
    }

    private sealed class Round : IRoundAggregator
    {
        private readonly Scaffold _owner;
        private readonly ModelParameters _global;
        private readonly int _population;
        private readonly ServerOptimizerRound _models;
        private readonly float[] _controlSum;
        private readonly object _gate = new();

        public Round(Scaffold owner, ModelParameters global, int population)
        {
            _owner = owner;
            _global = global;
            _population = Math.Max(1, population);
            float eta = (float)owner.ServerLearningRate;
            _models = new ServerOptimizerRound(global, (w, complete) => complete((start, a) =>
            {
                // new = w + eta (avg - w)
                ReadOnlySpan<float> x = w.Span.Slice(start, a.Length);
                System.Numerics.Tensors.TensorPrimitives.Subtract(a, x, a);
                System.Numerics.Tensors.TensorPrimitives.MultiplyAdd(a, eta, x, a);
            }));
            _controlSum = new float[global.Length];
        }

        public int Count => _models.Count;

        public void Add(ClientUpdate update)
        {
            using ModelParameters delta = ReadDelta(update);
            _models.Add(update);
            lock (_gate)
            {
                AggregationKernels.MultiplyAdd(delta.Memory, 1f, _controlSum);
            }
        }

        public ModelParameters Complete()
        {
            ModelParameters result = _models.Complete();
            lock (_owner._gate)
            {
                float[] control = _owner._control ?? new float[_global.Length];
                AggregationKernels.MultiplyAdd(_controlSum, 1f / _population, control);
                _owner._control = control;
                _owner._layout = _global.Layout;
            }

            return result;
        }

        public void Dispose() => _models.Dispose();

        private ModelParameters ReadDelta(ClientUpdate update)
        {
            if (!update.Metrics.TryGetValue(ConfigKeys.ScaffoldControlDelta, out ConfigValue value) || value.Kind != ConfigValueKind.Bytes)
            {
                throw new ArgumentException($"SCAFFOLD update from client '{update.ClientId}' has no '{ConfigKeys.ScaffoldControlDelta}' metric; the client must run SCAFFOLD's local correction.");
            }

            ModelParameters delta;
            try
            {
                delta = _owner._serializer.Deserialize(value.AsBytes());
            }
            catch (ModelFormatException ex)
            {
                throw new ArgumentException($"SCAFFOLD update from client '{update.ClientId}': {ex.Message}", ex);
            }

            try
            {
                _global.Layout.EnsureCompatible(delta.Layout, $"control-variate change from client '{update.ClientId}'");
                if (!AggregationKernels.AllFinite(delta.Values, out _))
                {
                    throw new ArgumentException($"SCAFFOLD update from client '{update.ClientId}' has a non-finite control-variate change.");
                }

                return delta;
            }
            catch
            {
                delta.Dispose();
                throw;
            }
        }
    }
}
