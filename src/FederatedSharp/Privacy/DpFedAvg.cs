using System.Numerics.Tensors;
using FederatedSharp.Aggregation;
using FederatedSharp.Clients;
using FederatedSharp.Parameters;
using FederatedSharp.Simulation;
using MathNet.Numerics.Distributions;

namespace FederatedSharp.Privacy;

/// <summary>
/// Central (client-level) differential privacy for FedAvg (McMahan et al. 2018, "Learning Differentially Private
/// Recurrent Language Models"): each client's update <c>d_i = w_i - w</c> is clipped to L2 norm C, the clipped updates
/// are averaged with equal weights over the m sampled clients, Gaussian noise of standard deviation <c>z C / m</c> is
/// added, and <c>w = w + mean</c>. With adaptive clipping (Andrew et al. 2021, "Differentially Private Learning with
/// Adaptive Clipping") C follows the target quantile of the update norms, <c>C = C exp(-eta (b - gamma))</c> with b the
/// noisy fraction of unclipped updates, and the update noise multiplier becomes
/// <c>(z^-2 - (2 sigma_b)^-2)^(-1/2)</c> so the total privacy cost stays that of z. Every round the
/// <see cref="RdpAccountant"/> adds one sampled Gaussian step (q = m / total clients) and the round reports
/// <c>dp_epsilon</c> (at <see cref="DpFedAvgOptions.Delta"/>), <c>dp_clip_norm</c>, <c>dp_noise_stddev</c> and
/// <c>dp_clipped_fraction</c> in <see cref="Server.RoundRecord.AggregatorMetrics"/>. Memory: O(model).
/// </summary>
public sealed class DpFedAvg : IStatefulAggregator
{
    private readonly DpFedAvgOptions _options;
    private readonly object _gate = new();
    private readonly RdpAccountant _accountant = new();
    private double _clipNorm;
    private int _rounds;
    private double _lastSampleRate;
    private double _lastNoiseMultiplier;

    /// <summary>Creates the strategy.</summary>
    /// <param name="options">Noise, clipping and accounting settings.</param>
    /// <exception cref="ArgumentOutOfRangeException">A setting is out of range.</exception>
    public DpFedAvg(DpFedAvgOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _options = options;
        _clipNorm = options.ClipNorm;
    }

    /// <inheritdoc />
    public string Name => "DpFedAvg";

    /// <summary>The current clipping norm.</summary>
    public double ClipNorm
    {
        get
        {
            lock (_gate)
            {
                return _clipNorm;
            }
        }
    }

    /// <summary>Epsilon spent so far at <paramref name="delta"/>.</summary>
    /// <param name="delta">The delta.</param>
    /// <returns>Epsilon.</returns>
    public double Epsilon(double delta)
    {
        lock (_gate)
        {
            return _accountant.GetPrivacySpent(delta).Epsilon;
        }
    }

    /// <inheritdoc />
    public void ConfigureFit(int round, ConfigRecord config)
    {
    }

    /// <inheritdoc />
    public IRoundAggregator BeginRound(ModelParameters globalParameters, AggregationContext context)
    {
        ArgumentNullException.ThrowIfNull(globalParameters);
        return new Round(this, globalParameters, context);
    }

    /// <inheritdoc />
    public AggregatorState ExportState()
    {
        lock (_gate)
        {
            var state = new AggregatorState(Name, null);
            state.Scalars["clip_norm"] = _clipNorm;
            state.Scalars["rounds"] = _rounds;
            state.Scalars["sample_rate"] = _lastSampleRate;
            state.Scalars["noise_multiplier"] = _lastNoiseMultiplier;
            return state;
        }
    }

    /// <inheritdoc />
    public void ImportState(AggregatorState state)
    {
        ArgumentNullException.ThrowIfNull(state);
        state.EnsureFor(Name, null);
        lock (_gate)
        {
            _clipNorm = state.Scalars.GetDouble("clip_norm", _options.ClipNorm);
            _rounds = (int)state.Scalars.GetInt64("rounds", 0);
            _lastSampleRate = state.Scalars.GetDouble("sample_rate", 0);
            _lastNoiseMultiplier = state.Scalars.GetDouble("noise_multiplier", _options.NoiseMultiplier);
            if (_rounds > 0)
            {
                // The accountant's history is one sampled Gaussian step per round with these (constant) settings.
                _accountant.Step(_lastSampleRate, _lastNoiseMultiplier, _rounds);
            }
        }
    }

    private double CountStddev(int sampled) => _options.ClippedCountStddev ?? Math.Max(sampled / 20.0, 1e-3);

    private double UpdateNoiseMultiplier(int sampled)
    {
        if (!_options.AdaptiveClipping)
        {
            return _options.NoiseMultiplier;
        }

        double z = _options.NoiseMultiplier;
        double sigmaB = CountStddev(sampled);
        double inner = Math.Pow(z, -2) - Math.Pow(2 * sigmaB, -2);
        if (inner <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(DpFedAvgOptions.ClippedCountStddev), "The count noise is too small for this noise multiplier: (z^-2 - (2 sigma_b)^-2) must be > 0.");
        }

        return Math.Pow(inner, -0.5);
    }

    private sealed class Round(DpFedAvg owner, ModelParameters global, AggregationContext context) : IReportingRoundAggregator
    {
        private readonly float[] _sum = new float[global.Length];
        private readonly float[] _delta = new float[global.Length];
        private readonly object _gate = new();
        private readonly double _clipNorm = owner.ClipNorm;
        private int _count;
        private int _unclipped;
        private ConfigRecord _metrics = ConfigRecord.Empty;

        public int Count => Volatile.Read(ref _count);

        public void Add(ClientUpdate update)
        {
            global.Layout.EnsureCompatible(update.Parameters.Layout, $"update from client '{update.ClientId}'");
            lock (_gate)
            {
                TensorPrimitives.Subtract(update.Parameters.Values, global.Values, _delta);
                double norm = Norm(_delta);
                double factor = norm > _clipNorm ? _clipNorm / norm : 1;
                if (norm <= _clipNorm)
                {
                    _unclipped++;
                }

                TensorPrimitives.MultiplyAdd(_delta, (float)factor, _sum, _sum);
                _count++;
            }
        }

        public ModelParameters Complete()
        {
            lock (_gate)
            {
                if (_count == 0)
                {
                    throw new InvalidOperationException("Cannot complete a round with no updates.");
                }

                int m = Math.Max(_count, context.SampledClients);
                double z = owner.UpdateNoiseMultiplier(m);
                double noiseStd = z * _clipNorm / m;
                var random = new DeterministicRandom(DeterministicRandom.Mix(owner._options.Seed, (ulong)context.Round, 0xD9));
                ModelParameters result = global.Clone();
                Span<float> w = result.Values;
                for (int i = 0; i < w.Length; i++)
                {
                    w[i] += (float)((_sum[i] / m) + (noiseStd * Normal.Sample(random, 0, 1)));
                }

                lock (owner._gate)
                {
                    double sampleRate = Math.Min(1.0, (double)m / owner._options.TotalClients);
                    owner._accountant.Step(sampleRate, z);
                    owner._lastSampleRate = sampleRate;
                    owner._lastNoiseMultiplier = z;
                    owner._rounds++;
                    if (owner._options.AdaptiveClipping)
                    {
                        double noisyFraction = (_unclipped + Normal.Sample(random, 0, owner.CountStddev(m))) / m;
                        owner._clipNorm *= Math.Exp(-owner._options.ClipLearningRate * (noisyFraction - owner._options.TargetQuantile));
                    }

                    _metrics = new ConfigRecord
                    {
                        ["dp_epsilon"] = owner._accountant.GetPrivacySpent(owner._options.Delta).Epsilon,
                        ["dp_delta"] = owner._options.Delta,
                        ["dp_clip_norm"] = _clipNorm,
                        ["dp_noise_stddev"] = noiseStd,
                        ["dp_clipped_fraction"] = 1 - ((double)_unclipped / _count),
                    }.Freeze();
                }

                return result;
            }
        }

        public ConfigRecord GetRoundMetrics() => _metrics;

        public void Dispose()
        {
        }

        private static double Norm(ReadOnlySpan<float> values)
        {
            double sum = 0;
            for (int start = 0; start < values.Length; start += 16384)
            {
                double d = TensorPrimitives.Norm(values.Slice(start, Math.Min(16384, values.Length - start)));
                sum += d * d;
            }

            return Math.Sqrt(sum);
        }
    }
}
