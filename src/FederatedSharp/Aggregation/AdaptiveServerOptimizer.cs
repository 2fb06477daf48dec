using FederatedSharp.Aggregation.Kernels;
using FederatedSharp.Parameters;

namespace FederatedSharp.Aggregation;

/// <summary>The second-moment rule of a FedOpt strategy.</summary>
internal enum AdaptiveRule
{
    Adagrad,
    Adam,
    Yogi,
}

/// <summary>
/// The shared server step of FedAdagrad, FedAdam and FedYogi (Reddi et al. 2021, Algorithm 2), as Flower computes it:
/// <c>d = avg - w</c>; <c>m = b1 m + (1 - b1) d</c>; Adagrad <c>v = v + d^2</c>, Adam <c>v = b2 v + (1 - b2) d^2</c>,
/// Yogi <c>v = v - (1 - b2) d^2 sign(v - d^2)</c>; <c>w = w + eta m / (sqrt(v) + tau)</c>; m and v start at zero.
/// </summary>
internal sealed class AdaptiveServerOptimizer
{
    private readonly object _gate = new();
    private readonly string _name;
    private readonly AdaptiveRule _rule;
    private readonly float _eta;
    private readonly float _beta1;
    private readonly float _beta2;
    private readonly float _tau;
    private float[]? _m;
    private float[]? _v;
    private TensorLayout? _layout;

    public AdaptiveServerOptimizer(string name, AdaptiveRule rule, double eta, double beta1, double beta2, double tau)
    {
        Hyperparameters.Positive(eta, nameof(eta));
        Hyperparameters.InRange(beta1, 0, 1, nameof(beta1));
        Hyperparameters.InRange(beta2, 0, 1, nameof(beta2));
        Hyperparameters.Positive(tau, nameof(tau));
        _name = name;
        _rule = rule;
        _eta = (float)eta;
        _beta1 = (float)beta1;
        _beta2 = (float)beta2;
        _tau = (float)tau;
    }

    public IRoundAggregator BeginRound(ModelParameters global) =>
        new ServerOptimizerRound(global, (w, complete) => Step(global.Layout, w, complete));

    public AggregatorState Export()
    {
        lock (_gate)
        {
            var state = new AggregatorState(_name, _layout);
            if (_m is not null)
            {
                state.SetTensor("m", _m);
                state.SetTensor("v", _v!);
            }

            return state;
        }
    }

    public void Import(AggregatorState state)
    {
        ArgumentNullException.ThrowIfNull(state);
        state.EnsureFor(_name, null);
        lock (_gate)
        {
            _layout = state.Layout;
            bool hasM = state.TryGetTensor("m", out float[]? m);
            bool hasV = state.TryGetTensor("v", out float[]? v);
            if (hasM != hasV)
            {
                throw new ArgumentException($"{_name} state needs both moments 'm' and 'v'.");
            }

            _m = hasM ? (float[])m!.Clone() : null;
            _v = hasV ? (float[])v!.Clone() : null;
        }
    }

    private ModelParameters Step(TensorLayout layout, ReadOnlyMemory<float> global, Func<BlockFinisher, ModelParameters> complete)
    {
        lock (_gate)
        {
            if (_layout is not null && _layout.Hash != layout.Hash)
            {
                throw new LayoutMismatchException($"{_name}'s moments were built for {_layout}, the model is now {layout}.");
            }

            _layout = layout;
            _m ??= new float[global.Length];
            _v ??= new float[global.Length];
            float[] mAll = _m;
            float[] vAll = _v;
            var hyper = new AdaptiveHyperparameters(_beta1, _beta2, _eta, _tau);
            return complete((start, mean) => ServerStepKernels.Adaptive(
                _rule, mean, global.Span.Slice(start, mean.Length), mAll.AsSpan(start, mean.Length), vAll.AsSpan(start, mean.Length), hyper));
        }
    }
}
