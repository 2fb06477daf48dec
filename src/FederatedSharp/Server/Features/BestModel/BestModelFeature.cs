using FederatedSharp.Aggregation;
using FederatedSharp.Clients;
using FederatedSharp.Server.Checkpoints;
using FederatedSharp.Server.Engine;

namespace FederatedSharp.Server.Features.BestModel;

/// <summary>
/// After every round, compares the chosen metric with the best so far and, when it is better, saves the round's
/// checkpoint to the best-model store. The best value and round are part of the federation's own checkpoint, so a
/// resumed federation keeps comparing against them.
/// </summary>
internal sealed class BestModelFeature(BestModelOptions options) : FederationFeature
{
    private double? _best;
    private int _bestRound;

    public override string Name => "best-model";

    public override int Order => FeatureOrder.Checkpoints - 1;

    public override async ValueTask OnRoundCompletedAsync(FederationContext context, RoundRecord record, CancellationToken cancellationToken)
    {
        double? value = Value(record);
        if (!record.Succeeded || value is not double v || double.IsNaN(v))
        {
            return;
        }

        if (_best is double best && (options.Maximize ? v <= best : v >= best))
        {
            return;
        }

        using FederationCheckpoint checkpoint = context.CreateCheckpoint();
        await options.Store.SaveAsync(checkpoint, cancellationToken).ConfigureAwait(false);
        (_best, _bestRound) = (v, record.Round);
    }

    public override AggregatorState? ExportState(FederationContext context)
    {
        var state = new AggregatorState("BestModel", null);
        if (_best is double best)
        {
            state.Scalars["best"] = best;
            state.Scalars["round"] = _bestRound;
        }

        return state;
    }

    public override void ImportState(FederationContext context, AggregatorState state)
    {
        state.EnsureFor("BestModel", null);
        _best = state.Scalars.TryGetValue("best", out ConfigValue best) ? best.AsDouble() : null;
        _bestRound = (int)state.Scalars.GetInt64("round", 0);
    }

    private double? Value(RoundRecord record)
    {
        bool distributed = options.Source == MetricSource.Distributed;
        if (options.Metric == "loss")
        {
            return distributed ? record.DistributedLoss : record.CentralizedLoss;
        }

        ConfigRecord metrics = distributed ? record.DistributedMetrics : record.CentralizedMetrics;
        return metrics.TryGetValue(options.Metric, out ConfigValue value) && value.IsNumeric ? value.AsDouble() : null;
    }
}
