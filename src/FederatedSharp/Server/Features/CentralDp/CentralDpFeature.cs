using System.Numerics.Tensors;
using FederatedSharp.Aggregation;
using FederatedSharp.Clients;
using FederatedSharp.Parameters;
using FederatedSharp.Privacy;
using FederatedSharp.Server.Engine;
using MathNet.Numerics.Distributions;

namespace FederatedSharp.Server.Features.CentralDp;

/// <summary>
/// Central (client-level) DP as two stages of the update pipeline, so it composes with every strategy: a clip stage
/// (<see cref="UpdateStageOrder.Clip"/>) clips each update's delta to the clipping norm C (fixed or adaptive) and gives
/// every client equal weight; a noise stage (<see cref="UpdateStageOrder.Noise"/>) adds Gaussian noise where
/// <see cref="CentralDpNoisePlacement"/> says. The RDP accountant takes one sampled Gaussian step per round and the
/// round reports <c>dp_epsilon</c>, <c>dp_clip_norm</c>, <c>dp_noise_stddev</c> and <c>dp_clipped_fraction</c>. The
/// accountant and the clipping norm are checkpointed.
/// </summary>
internal sealed class CentralDpFeature(DpFedAvgOptions options, CentralDpNoisePlacement placement) : FederationFeature
{
    private readonly CentralDpMechanism _mechanism = new(options);
    private RoundState? _current;

    public override string Name => "central DP";

    public override void OnBuild(FeatureBuildContext context)
    {
        bool linear = context.Aggregator.Traits.HasFlag(AggregatorTraits.Linear);
        if (placement == CentralDpNoisePlacement.Aggregate && !linear)
        {
            throw new ArgumentException(
                $"Central DP with noise on the aggregate hands the strategy only the noisy mean, and {context.Aggregator.Name} needs every individual update. Use CentralDpNoisePlacement.PerUpdate (or Automatic) with this strategy.");
        }

        if (context.Aggregator is DpFedAvg)
        {
            throw new ArgumentException("DpFedAvg already clips and adds noise; with UseCentralDp use FedAvg (FedAvg + UseCentralDp is DpFedAvg).");
        }

        bool perUpdate = placement == CentralDpNoisePlacement.PerUpdate || (placement == CentralDpNoisePlacement.Automatic && !linear);
        context.AddUpdateStage(new ClipStage(this));
        context.AddUpdateStage(new NoiseStage(this, perUpdate));
    }

    public override AggregatorState? ExportState(FederationContext context)
    {
        var state = new AggregatorState("CentralDp", null);
        _mechanism.Export(state);
        return state;
    }

    public override void ImportState(FederationContext context, AggregatorState state)
    {
        state.EnsureFor("CentralDp", null);
        _mechanism.Import(state);
    }

    /// <summary>What the clip and noise stages of one round share.</summary>
    private sealed class RoundState(double clipNorm)
    {
        public double ClipNorm { get; } = clipNorm;

        public int Count { get; set; }

        public int Unclipped { get; set; }
    }

    private sealed class ClipStage(CentralDpFeature owner) : UpdateStage
    {
        public override string Name => "central DP clip";

        public override int Order => UpdateStageOrder.Clip;

        public override IUpdateSink BeginRound(UpdateStageContext context, IUpdateSink next) =>
            new ClipSink(owner._current ?? throw new InvalidOperationException("The central DP noise stage did not start the round."), context, next);
    }

    private sealed class ClipSink(RoundState state, UpdateStageContext context, IUpdateSink next) : PassThroughSink(next)
    {
        public override void Add(IReadOnlyList<ClientUpdate> updates)
        {
            var clipped = new List<ClientUpdate>(updates.Count);
            try
            {
                foreach (ClientUpdate update in updates)
                {
                    ModelParameters delta = ModelParameters.CreateUninitialized(context.Global.Layout);
                    TensorPrimitives.Subtract(update.Parameters.Values, context.Global.Values, delta.Values);
                    if (CentralDpMechanism.Clip(delta.Values, state.ClipNorm))
                    {
                        state.Unclipped++;
                    }

                    state.Count++;

                    // global + clipped delta, with equal weight for every client.
                    TensorPrimitives.Add(delta.Values, context.Global.Values, delta.Values);
                    clipped.Add(new ClientUpdate(update.ClientId, delta, 1, update.Metrics));
                }

                Next.Add(clipped);
            }
            finally
            {
                foreach (ClientUpdate update in clipped)
                {
                    update.Parameters.Dispose();
                }
            }
        }
    }

    private sealed class NoiseStage(CentralDpFeature owner, bool perUpdate) : UpdateStage
    {
        public override string Name => "central DP noise";

        public override int Order => UpdateStageOrder.Noise;

        public override IUpdateSink BeginRound(UpdateStageContext context, IUpdateSink next)
        {
            var state = new RoundState(owner._mechanism.ClipNorm);
            owner._current = state;
            return perUpdate ? new PerUpdateNoiseSink(owner._mechanism, state, context, next) : new AggregateNoiseSink(owner._mechanism, state, context, next);
        }
    }

    /// <summary>Sums the clipped deltas; at the end hands the strategy global + (sum + N(0, (z C)^2)) / m as one update.</summary>
    private sealed class AggregateNoiseSink(CentralDpMechanism mechanism, RoundState state, UpdateStageContext context, IUpdateSink next) : PassThroughSink(next)
    {
        private readonly float[] _sum = new float[context.Global.Length];
        private readonly float[] _delta = new float[context.Global.Length];
        private ConfigRecord _metrics = ConfigRecord.Empty;

        public override ConfigRecord Metrics => _metrics;

        public override void Add(IReadOnlyList<ClientUpdate> updates)
        {
            foreach (ClientUpdate update in updates)
            {
                TensorPrimitives.Subtract(update.Parameters.Values, context.Global.Values, _delta);
                TensorPrimitives.Add(_sum, _delta, _sum);
            }
        }

        public override ModelParameters Complete()
        {
            if (state.Count == 0)
            {
                throw new InvalidOperationException("Cannot complete a round with no updates.");
            }

            int m = Math.Max(state.Count, context.SampledClients);
            double z = mechanism.NoiseMultiplier(m);
            double noiseStd = z * state.ClipNorm / m;
            var random = mechanism.RoundRandom(context.Round);
            using ModelParameters noisy = context.Global.Clone();
            Span<float> w = noisy.Values;
            for (int i = 0; i < w.Length; i++)
            {
                w[i] += (float)((_sum[i] / m) + (noiseStd * Normal.Sample(random, 0, 1)));
            }

            _metrics = mechanism.FinishRound(m, z, state.Count, state.Unclipped, state.ClipNorm, noiseStd, random);
            Next.Add(new[] { new ClientUpdate("central-dp-mean", noisy, 1, ConfigRecord.Empty) });
            return Next.Complete();
        }
    }

    /// <summary>Adds N(0, (z C)^2) to every clipped update (global + clipped delta) before the strategy sees it.</summary>
    private sealed class PerUpdateNoiseSink(CentralDpMechanism mechanism, RoundState state, UpdateStageContext context, IUpdateSink next) : PassThroughSink(next)
    {
        private readonly Random _random = mechanism.RoundRandom(context.Round, 0xD8);
        private ConfigRecord _metrics = ConfigRecord.Empty;

        public override ConfigRecord Metrics => _metrics;

        public override void Add(IReadOnlyList<ClientUpdate> updates)
        {
            double noiseStd = mechanism.NoiseMultiplier(Math.Max(1, context.SampledClients)) * state.ClipNorm;
            var noisy = new List<ClientUpdate>(updates.Count);
            try
            {
                foreach (ClientUpdate update in updates)
                {
                    ModelParameters p = ModelParameters.CreateUninitialized(context.Global.Layout);
                    ReadOnlySpan<float> u = update.Parameters.Values;
                    Span<float> w = p.Values;
                    for (int i = 0; i < w.Length; i++)
                    {
                        w[i] = (float)(u[i] + (noiseStd * Normal.Sample(_random, 0, 1)));
                    }

                    noisy.Add(update with { Parameters = p });
                }

                Next.Add(noisy);
            }
            finally
            {
                foreach (ClientUpdate update in noisy)
                {
                    update.Parameters.Dispose();
                }
            }
        }

        public override ModelParameters Complete()
        {
            int m = Math.Max(state.Count, context.SampledClients);
            double z = mechanism.NoiseMultiplier(m);
            ModelParameters result = Next.Complete();
            _metrics = mechanism.FinishRound(m, z, Math.Max(1, state.Count), state.Unclipped, state.ClipNorm, z * state.ClipNorm, _random);
            return result;
        }
    }
}
