using System.Globalization;
using System.Numerics.Tensors;
using FederatedSharp.Aggregation;
using FederatedSharp.Clients;
using FederatedSharp.Parameters;
using FederatedSharp.Server;
using FederatedSharp.Server.Engine;

namespace CustomTransport;

/// <summary>
/// A custom feature: an update stage that measures how far each client moved the model (reported as
/// <c>update_norm_mean</c> and <c>update_norm_max</c> in the round's aggregator metrics), and a round hook that appends
/// one CSV line per client per round to a file. It plugs in with <c>builder.UseFeature(new RoundLogFeature(path))</c>
/// and edits nothing else.
/// </summary>
// snippet: round-log-feature
public sealed class RoundLogFeature(string csvPath) : FederationFeature
{
    public override string Name => "round log";

    // After validation (only accepted updates are measured), before clipping and noise.
    public override void OnBuild(FeatureBuildContext context)
    {
        if (string.IsNullOrWhiteSpace(csvPath))
        {
            throw new ArgumentException("The round log needs a file path.", nameof(csvPath));
        }

        context.AddUpdateStage(new NormStage());
    }

    public override async ValueTask OnStartingAsync(FederationContext context, CancellationToken cancellationToken)
    {
        if (context.CompletedRounds == 0)
        {
            Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(csvPath))!);
            await File.WriteAllTextAsync(csvPath, "round,client,examples,update_norm_mean,distributed_loss\n", cancellationToken).ConfigureAwait(false);
        }
    }

    public override async ValueTask OnRoundCompletedAsync(FederationContext context, RoundRecord record, CancellationToken cancellationToken)
    {
        string norm = record.AggregatorMetrics.TryGetValue("update_norm_mean", out ConfigValue n) ? n.AsDouble().ToString("G6", CultureInfo.InvariantCulture) : "";
        string loss = record.DistributedLoss?.ToString("G6", CultureInfo.InvariantCulture) ?? "";
        IEnumerable<string> lines = record.FitResults.Select(r => string.Join(",", record.Round, r.ClientId, r.ExampleCount, norm, loss));
        await File.AppendAllLinesAsync(csvPath, lines, cancellationToken).ConfigureAwait(false);
    }

    // end snippet
    // snippet: round-log-stage
    private sealed class NormStage : UpdateStage
    {
        public override string Name => "update norm";

        public override int Order => UpdateStageOrder.Validate + 50;

        public override IUpdateSink BeginRound(UpdateStageContext context, IUpdateSink next) => new Sink(context.Global, next);
    }

    // A stage's sink sees every accepted update in aggregation order and forwards it unchanged.
    private sealed class Sink(ModelParameters global, IUpdateSink next) : IUpdateSink
    {
        private readonly float[] _delta = new float[global.Length];
        private double _sum;
        private double _max;
        private int _count;

        public ConfigRecord Metrics => _count == 0
            ? ConfigRecord.Empty
            : new ConfigRecord { ["update_norm_mean"] = _sum / _count, ["update_norm_max"] = _max }.Freeze();

        public void Add(IReadOnlyList<ClientUpdate> updates)
        {
            foreach (ClientUpdate update in updates)
            {
                TensorPrimitives.Subtract(update.Parameters.Values, global.Values, _delta);
                double norm = TensorPrimitives.Norm(_delta);
                _sum += norm;
                _max = Math.Max(_max, norm);
                _count++;
            }

            next.Add(updates);
        }

        public ModelParameters Complete() => next.Complete();

        public void Dispose()
        {
        }
    }
    // end snippet
}
