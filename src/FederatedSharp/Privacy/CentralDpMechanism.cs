using System.Numerics.Tensors;
using FederatedSharp.Aggregation;
using FederatedSharp.Clients;
using MathNet.Numerics.Distributions;

namespace FederatedSharp.Privacy;

/// <summary>
/// The state and arithmetic of central (client-level) DP shared by <see cref="DpFedAvg"/> and the central DP stages
/// of <c>UseCentralDp</c>: the clipping norm (fixed or adaptive), the noise multiplier, and the RDP accountant's one
/// sampled Gaussian step per round.
/// </summary>
internal sealed class CentralDpMechanism
{
    private readonly object _gate = new();
    private readonly RdpAccountant _accountant = new();
    private PldAccountant? _pld;
    private double _clipNorm;
    private int _rounds;
    private double _lastSampleRate;
    private double _lastNoiseMultiplier;

    public CentralDpMechanism(DpFedAvgOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        Options = options;
        _clipNorm = options.ClipNorm;
        _pld = options.PldDiscretization > 0 ? new PldAccountant(options.PldDiscretization) : null;
    }

    public DpFedAvgOptions Options { get; }

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

    public double Epsilon(double delta)
    {
        lock (_gate)
        {
            return _accountant.GetPrivacySpent(delta).Epsilon;
        }
    }

    public void Export(AggregatorState state)
    {
        lock (_gate)
        {
            state.Scalars["clip_norm"] = _clipNorm;
            state.Scalars["rounds"] = _rounds;
            state.Scalars["sample_rate"] = _lastSampleRate;
            state.Scalars["noise_multiplier"] = _lastNoiseMultiplier;
        }
    }

    public void Import(AggregatorState state)
    {
        lock (_gate)
        {
            _clipNorm = state.Scalars.GetDouble("clip_norm", Options.ClipNorm);
            _rounds = (int)state.Scalars.GetInt64("rounds", 0);
            _lastSampleRate = state.Scalars.GetDouble("sample_rate", 0);
            _lastNoiseMultiplier = state.Scalars.GetDouble("noise_multiplier", Options.NoiseMultiplier);
            if (_rounds > 0)
            {
                // The accountant's history is one sampled Gaussian step per round with these (constant) settings.
                _accountant.Step(_lastSampleRate, _lastNoiseMultiplier, _rounds);
                _pld?.Step(_lastSampleRate, _lastNoiseMultiplier, _rounds);
            }
        }
    }

    /// <summary>The round's random stream for noise (and, after it, the clipped-count noise).</summary>
    public DeterministicRandom RoundRandom(int round, ulong salt = 0xD9) => new(DeterministicRandom.Mix(Options.Seed, (ulong)round, salt));

    /// <summary>The update noise multiplier for <paramref name="sampled"/> clients (with adaptive clipping, the share left after the count's noise).</summary>
    public double NoiseMultiplier(int sampled)
    {
        if (!Options.AdaptiveClipping)
        {
            return Options.NoiseMultiplier;
        }

        double z = Options.NoiseMultiplier;
        double sigmaB = CountStddev(sampled);
        double inner = Math.Pow(z, -2) - Math.Pow(2 * sigmaB, -2);
        if (inner <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(DpFedAvgOptions.ClippedCountStddev), "The count noise is too small for this noise multiplier: (z^-2 - (2 sigma_b)^-2) must be > 0.");
        }

        return Math.Pow(inner, -0.5);
    }

    /// <summary>Clips <paramref name="delta"/> in place to <paramref name="clipNorm"/>; returns whether it was within the norm already.</summary>
    public static bool Clip(Span<float> delta, double clipNorm)
    {
        double norm = Norm(delta);
        if (norm <= clipNorm)
        {
            return true;
        }

        TensorPrimitives.Multiply(delta, (float)(clipNorm / norm), delta);
        return false;
    }

    /// <summary>The L2 norm, summed in double over blocks.</summary>
    public static double Norm(ReadOnlySpan<float> values)
    {
        double sum = 0;
        for (int start = 0; start < values.Length; start += 16384)
        {
            double d = TensorPrimitives.Norm(values.Slice(start, Math.Min(16384, values.Length - start)));
            sum += d * d;
        }

        return Math.Sqrt(sum);
    }

    /// <summary>
    /// Accounts the round (one sampled Gaussian step, q = m / total clients), adapts the clipping norm, and returns the
    /// round's figures.
    /// </summary>
    public ConfigRecord FinishRound(int m, double z, int count, int unclipped, double clipNorm, double noiseStd, Random random)
    {
        lock (_gate)
        {
            double sampleRate = Math.Min(1.0, (double)m / Options.TotalClients);
            _accountant.Step(sampleRate, z);
            _pld?.Step(sampleRate, z);
            _lastSampleRate = sampleRate;
            _lastNoiseMultiplier = z;
            _rounds++;
            if (Options.AdaptiveClipping)
            {
                double noisyFraction = (unclipped + Normal.Sample(random, 0, CountStddev(m))) / m;
                _clipNorm *= Math.Exp(-Options.ClipLearningRate * (noisyFraction - Options.TargetQuantile));
            }

            var figures = new ConfigRecord
            {
                ["dp_epsilon"] = _accountant.GetPrivacySpent(Options.Delta).Epsilon,
                ["dp_delta"] = Options.Delta,
                ["dp_clip_norm"] = clipNorm,
                ["dp_noise_stddev"] = noiseStd,
                ["dp_clipped_fraction"] = 1 - ((double)unclipped / count),
            };
            if (_pld is not null)
            {
                try
                {
                    figures["dp_epsilon_pld"] = _pld.GetEpsilon(Options.Delta);
                }
                catch (ArgumentOutOfRangeException)
                {
                    // The noise is so small that the privacy loss spans too wide a grid (epsilon in the thousands):
                    // the PLD figure is left out from here on and the RDP one stands.
                    _pld = null;
                }
            }

            return figures.Freeze();
        }
    }

    private double CountStddev(int sampled) => Options.ClippedCountStddev ?? Math.Max(sampled / 20.0, 1e-3);
}
