using System.Numerics.Tensors;
using FederatedSharp.Aggregation.Kernels;
using FederatedSharp.Clients;
using FederatedSharp.Parameters;

namespace FederatedSharp.Aggregation;

/// <summary>
/// q-Fair Federated Averaging, q-FFL (Li et al. 2020, "Fair Resource Allocation in Federated Learning"), which
/// re-weights clients by their loss to make accuracy more uniform. With L = 1 / <see cref="LearningRate"/>, each
/// client k reports its loss F_k at the global model w (<see cref="ConfigKeys.InitialLoss"/>; the strategy asks for it
/// with <see cref="ConfigKeys.ReportInitialLoss"/>) and its trained model w_k:
/// <c>dw_k = L (w - w_k)</c>, <c>D_k = F_k^q dw_k</c>, <c>h_k = q F_k^(q-1) ||dw_k||^2 + L F_k^q</c>,
/// <c>w = w - sum D_k / sum h_k</c>. With q = 0 it is FedAvg with unweighted clients. It fits the streaming contract:
/// the sums are linear, so memory is O(model) whatever the number of clients. Defaults follow Flower: q 0.2,
/// learning rate 0.1.
/// </summary>
public sealed class QFedAvg : IAggregator
{
    /// <summary>Creates the strategy.</summary>
    /// <param name="q">The fairness parameter q &gt;= 0 (Flower's <c>q_param</c>, default 0.2).</param>
    /// <param name="learningRate">The client learning rate used to estimate L (Flower's <c>qffl_learning_rate</c>, default 0.1).</param>
    /// <exception cref="ArgumentOutOfRangeException">A hyperparameter is out of range.</exception>
    public QFedAvg(double q = 0.2, double learningRate = 0.1)
    {
        Hyperparameters.NonNegative(q, nameof(q));
        Hyperparameters.Positive(learningRate, nameof(learningRate));
        Q = q;
        LearningRate = learningRate;
    }

    /// <summary>The fairness parameter.</summary>
    public double Q { get; }

    /// <summary>The learning rate that defines L = 1 / learning rate.</summary>
    public double LearningRate { get; }

    /// <inheritdoc />
    public string Name => "QFedAvg";

    /// <inheritdoc />
    public void ConfigureFit(int round, ConfigRecord config)
    {
        ArgumentNullException.ThrowIfNull(config);
        config[ConfigKeys.ReportInitialLoss] = true;
    }

    /// <inheritdoc />
    public IRoundAggregator BeginRound(ModelParameters globalParameters, AggregationContext context)
    {
        ArgumentNullException.ThrowIfNull(globalParameters);
        return new Round(this, globalParameters);
    }

    private sealed class Round : IRoundAggregator
    {
        private readonly QFedAvg _owner;
        private readonly ModelParameters _global;
        private readonly object _gate = new();
        private ModelParameters? _weightedModels; // sum_k F_k^q w_k
        private double _weightSum;                // sum_k F_k^q
        private double _hSum;                     // sum_k h_k
        private int _count;
        private bool _completed;

        public Round(QFedAvg owner, ModelParameters global)
        {
            _owner = owner;
            _global = global;
            _weightedModels = ModelParameters.Create(global.Layout);
        }

        public int Count => Volatile.Read(ref _count);

        public void Add(ClientUpdate update)
        {
            ArgumentNullException.ThrowIfNull(update.Parameters);
            _global.Layout.EnsureCompatible(update.Parameters.Layout, $"update from client '{update.ClientId}'");
            if (!update.Metrics.TryGetValue(ConfigKeys.InitialLoss, out ConfigValue lossValue) || !lossValue.IsNumeric)
            {
                throw new ArgumentException($"q-FFL update from client '{update.ClientId}' has no numeric '{ConfigKeys.InitialLoss}' metric.");
            }

            double loss = lossValue.AsDouble();
            if (!(loss >= 0) || !double.IsFinite(loss))
            {
                throw new ArgumentException($"q-FFL update from client '{update.ClientId}' reports loss {loss}; a finite loss >= 0 is needed.");
            }

            double q = _owner.Q;
            double l = 1 / _owner.LearningRate;
            double f = loss + 1e-10;
            double fq = Math.Pow(f, q);
            double squaredNorm = SquaredDistance(_global.Values, update.Parameters.Values) * l * l;
            double h = (q * Math.Pow(f, q - 1) * squaredNorm) + (l * fq);
            lock (_gate)
            {
                if (_completed)
                {
                    throw new InvalidOperationException("The round was already completed.");
                }

                ObjectDisposedException.ThrowIf(_weightedModels is null, this);
                AggregationKernels.MultiplyAdd(update.Parameters.Memory, (float)fq, _weightedModels.Memory);
                _weightSum += fq;
                _hSum += h;
                _count++;
            }
        }

        public ModelParameters Complete()
        {
            lock (_gate)
            {
                if (_completed)
                {
                    throw new InvalidOperationException("The round was already completed.");
                }

                ObjectDisposedException.ThrowIf(_weightedModels is null, this);
                if (_count == 0)
                {
                    throw new InvalidOperationException("Cannot complete a round with no updates.");
                }

                _completed = true;
                ModelParameters result = _weightedModels;
                _weightedModels = null;

                // sum D_k = L (sum F^q w - sum F^q w_k); w_new = w - sum D_k / sum h_k
                //   = w (1 - L sum F^q / sum h) + (L / sum h) sum F^q w_k
                float keep = (float)(1 - (_weightSum / (_owner.LearningRate * _hSum)));
                float mix = (float)(1 / (_owner.LearningRate * _hSum));
                ReadOnlyMemory<float> w = _global.Memory;
                Memory<float> r = result.Memory;
                BlockParallel.For(result.Length, (start, count) =>
                {
                    Span<float> acc = r.Span.Slice(start, count);
                    TensorPrimitives.Multiply(acc, mix, acc);
                    TensorPrimitives.MultiplyAdd(w.Span.Slice(start, count), keep, acc, acc);
                });
                return result;
            }
        }

        public void Dispose()
        {
            lock (_gate)
            {
                _weightedModels?.Dispose();
                _weightedModels = null;
            }
        }

        private static double SquaredDistance(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
        {
            double sum = 0;
            for (int start = 0; start < a.Length; start += AggregationKernels.CacheBlockLength)
            {
                int count = Math.Min(AggregationKernels.CacheBlockLength, a.Length - start);
                double d = TensorPrimitives.Distance(a.Slice(start, count), b.Slice(start, count));
                sum += d * d;
            }

            return sum;
        }
    }
}
