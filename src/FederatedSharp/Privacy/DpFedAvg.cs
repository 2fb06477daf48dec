using System.Numerics.Tensors;
using FederatedSharp.Aggregation;
using FederatedSharp.Clients;
using FederatedSharp.Parameters;
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
    private readonly CentralDpMechanism _mechanism;

    /// <summary>Creates the strategy.</summary>
    /// <param name="options">Noise, clipping and accounting settings.</param>
    /// <exception cref="ArgumentOutOfRangeException">A setting is out of range.</exception>
    public DpFedAvg(DpFedAvgOptions options)
    {
        _mechanism = new CentralDpMechanism(options);
    }

    /// <inheritdoc />
    public string Name => "DpFedAvg";

    /// <summary>The current clipping norm.</summary>
    public double ClipNorm => _mechanism.ClipNorm;

    /// <summary>Epsilon spent so far at <paramref name="delta"/>.</summary>
    /// <param name="delta">The delta.</param>
    /// <returns>Epsilon.</returns>
    public double Epsilon(double delta) => _mechanism.Epsilon(delta);

    /// <inheritdoc />
    public void ConfigureFit(int round, ConfigRecord config)
    {
    }

    /// <inheritdoc />
    public IRoundAggregator BeginRound(ModelParameters globalParameters, AggregationContext context)
    {
        ArgumentNullException.ThrowIfNull(globalParameters);
        return new Round(_mechanism, globalParameters, context);
    }

    /// <inheritdoc />
    public AggregatorState ExportState()
    {
        var state = new AggregatorState(Name, null);
        _mechanism.Export(state);
        return state;
    }

    /// <inheritdoc />
    public void ImportState(AggregatorState state)
    {
        ArgumentNullException.ThrowIfNull(state);
        state.EnsureFor(Name, null);
        _mechanism.Import(state);
    }

    private sealed class Round(CentralDpMechanism mechanism, ModelParameters global, AggregationContext context) : IReportingRoundAggregator
    {
        private readonly float[] _sum = new float[global.Length];
        private readonly float[] _delta = new float[global.Length];
        private readonly object _gate = new();
        private readonly double _clipNorm = mechanism.ClipNorm;
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
                double norm = CentralDpMechanism.Norm(_delta);
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
                double z = mechanism.NoiseMultiplier(m);
                double noiseStd = z * _clipNorm / m;
                DeterministicRandom random = mechanism.RoundRandom(context.Round);
                ModelParameters result = global.Clone();
                Span<float> w = result.Values;
                for (int i = 0; i < w.Length; i++)
                {
                    w[i] += (float)((_sum[i] / m) + (noiseStd * Normal.Sample(random, 0, 1)));
                }

                _metrics = mechanism.FinishRound(m, z, _count, _unclipped, _clipNorm, noiseStd, random);
                return result;
            }
        }

        public ConfigRecord GetRoundMetrics() => _metrics;

        public void Dispose()
        {
        }
    }
}
