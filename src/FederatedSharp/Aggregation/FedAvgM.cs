using FederatedSharp.Aggregation.Kernels;
using FederatedSharp.Clients;
using FederatedSharp.Parameters;

namespace FederatedSharp.Aggregation;

/// <summary>
/// FedAvg with server momentum (Hsu et al. 2019, "Measuring the Effects of Non-Identical Data Distribution for
/// Federated Visual Classification"). With the pseudo-gradient <c>g = w - avg</c> (avg the FedAvg of the updates):
/// <c>v = beta v + g</c> (<c>v = g</c> in the first round), <c>w = w - eta v</c>. With momentum 0 and learning rate 1
/// it is FedAvg. Defaults follow Flower: server learning rate 1.0, momentum 0.0. The momentum is checkpointable state.
/// Memory: O(model).
/// </summary>
public sealed class FedAvgM : IStatefulAggregator
{
    private readonly object _gate = new();
    private float[]? _momentum;
    private TensorLayout? _layout;

    /// <summary>Creates the strategy.</summary>
    /// <param name="serverLearningRate">Server learning rate eta (Flower's <c>server_learning_rate</c>, default 1.0).</param>
    /// <param name="serverMomentum">Server momentum beta (Flower's <c>server_momentum</c>, default 0.0).</param>
    /// <exception cref="ArgumentOutOfRangeException">A hyperparameter is out of range.</exception>
    public FedAvgM(double serverLearningRate = 1.0, double serverMomentum = 0.0)
    {
        Hyperparameters.Positive(serverLearningRate, nameof(serverLearningRate));
        Hyperparameters.InRange(serverMomentum, 0, 1, nameof(serverMomentum));
        ServerLearningRate = serverLearningRate;
        ServerMomentum = serverMomentum;
    }

    /// <summary>Server learning rate.</summary>
    public double ServerLearningRate { get; }

    /// <summary>Server momentum.</summary>
    public double ServerMomentum { get; }

    /// <inheritdoc />
    public string Name => "FedAvgM";

    /// <inheritdoc />
    public AggregatorTraits Traits => AggregatorTraits.Linear;

    /// <inheritdoc />
    public void ConfigureFit(int round, ConfigRecord config)
    {
    }

    /// <inheritdoc />
    public IRoundAggregator BeginRound(ModelParameters globalParameters, AggregationContext context)
    {
        ArgumentNullException.ThrowIfNull(globalParameters);
        return new ServerOptimizerRound(globalParameters, (global, complete) => Step(globalParameters.Layout, global, complete));
    }

    /// <inheritdoc />
    public AggregatorState ExportState()
    {
        lock (_gate)
        {
            return AggregatorState.WithTensor(Name, _layout, "momentum", _momentum);
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
            _momentum = state.CopyTensor("momentum");
        }
    }

    private ModelParameters Step(TensorLayout layout, ReadOnlyMemory<float> global, Func<BlockFinisher, ModelParameters> complete)
    {
        lock (_gate)
        {
            if (_layout is not null && _layout.Hash != layout.Hash)
            {
                throw new LayoutMismatchException($"FedAvgM's momentum was built for {_layout}, the model is now {layout}.");
            }

            _layout = layout;
            bool first = _momentum is null;
            if (ServerMomentum > 0)
            {
                _momentum ??= new float[global.Length];
            }

            float[]? momentum = _momentum;
            float lr = (float)ServerLearningRate;
            float beta = (float)ServerMomentum;
            return complete((start, mean) => ServerStepKernels.Momentum(
                mean, global.Span.Slice(start, mean.Length), momentum is null ? default : momentum.AsSpan(start, mean.Length), first, beta, lr));
        }
    }
}
