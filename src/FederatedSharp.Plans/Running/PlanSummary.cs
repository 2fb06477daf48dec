using System.Globalization;
using System.Text;
using FederatedSharp.Clients;
using FederatedSharp.Plans.Model;
using TorchSharp;
using static TorchSharp.torch;

namespace FederatedSharp.Plans;

/// <summary>
/// A readable account of a plan for the people who approve it at a site: what it reads, the model layer by layer
/// with shapes and parameter counts, how it trains, what leaves the site and with which privacy.
/// </summary>
public static class PlanSummary
{
    /// <summary>Describes a plan.</summary>
    /// <param name="plan">The plan.</param>
    /// <returns>Plain text, one fact per line.</returns>
    public static string Describe(TrainingPlan plan)
    {
        ArgumentNullException.ThrowIfNull(plan);
        var text = new StringBuilder();
        Line(text, $"Plan       {plan.Name} {plan.Version}");
        Line(text, $"Hash       {plan.Hash}");
        if (plan.Description.Length > 0)
        {
            Line(text, $"Purpose    {plan.Description}");
        }

        DescribeData(text, plan.Data);
        DescribeModel(text, plan);
        OptimizerSpec o = plan.Optimizer;
        string schedule = plan.Training.LocalSteps is int steps ? $"{steps} local steps" : $"{plan.Training.LocalEpochs} local epoch(s)";
        Line(text, $"Training   loss {PlanChecks.Name(plan.Loss)}; {o.Kind} learning rate {F(o.LearningRate)}{(o.Momentum > 0 ? ", momentum " + F(o.Momentum) : "")}{(o.WeightDecay > 0 ? ", weight decay " + F(o.WeightDecay) : "")}; batch {plan.Training.BatchSize}, {schedule} per round");
        Line(text, $"Metrics    {(plan.Metrics.Count == 0 ? "loss only" : string.Join(", ", plan.Metrics))}");
        FederationSpec f = plan.Federation;
        string hyper = f.Hyperparameters.Count == 0 ? "" : " (" + string.Join(", ", f.Hyperparameters.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => $"{p.Key} = {p.Value}")) + ")";
        Line(text, $"Federation {f.Strategy}{hyper}, {f.Rounds} rounds, at least {f.MinClients} site(s) per round, seed {plan.Seed}");
        Line(text, "Leaves the site: model parameters after each round, the number of training and test rows, the loss and metrics"
            + (plan.Data.Standardize == Standardization.Federated ? ", and the count, mean and variance of each standardised column under the site's disclosure policy" : ""));
        Line(text, "Privacy    " + (plan.Privacy.DpSgd is { } dp
            ? $"DP-SGD at the site: per-example clipping to {F(dp.MaxGradNorm)}, noise multiplier {F(dp.NoiseMultiplier)}, delta {F(dp.Delta)}"
            : plan.Privacy.CentralDp is { } c
                ? $"central DP on the server: updates clipped to {F(c.ClipNorm)}, noise multiplier {F(c.NoiseMultiplier)}, delta {F(c.Delta)} (the site's raw update reaches the server)"
                : "none: the model updates carry no differential privacy"));
        return text.ToString();
    }

    private static void DescribeData(StringBuilder text, DataSpec data)
    {
        string features = data.Features.Count <= 16 ? string.Join(", ", data.Features) : $"{data.Features[0]} ... {data.Features[^1]}";
        Line(text, $"Reads      {data.Features.Count} feature column(s): {features}");
        LabelSpec l = data.Label;
        Line(text, "Label      " + (l.Task switch
        {
            LabelTask.Survival => $"survival: time '{l.TimeColumn}', event '{l.EventColumn}'",
            LabelTask.Multiclass => $"multiclass '{l.Column}' with {l.Classes} classes",
            _ => $"{l.Task.ToString().ToLowerInvariant()} '{l.Column}'",
        }));
        Line(text, "Split      " + (data.SplitColumn is { } s ? $"test rows marked by column '{s}'" : $"{F(data.TestFraction * 100)}% of rows held out at random (seeded)")
            + (data.DropMissingRows ? "; rows with a missing value are dropped" : "; a missing value fails the site"));
        Line(text, "Scaling    " + (data.Standardize switch
        {
            Standardization.Site => $"z-scores with the site's own statistics ({data.StandardizeColumns.Count} column(s))",
            Standardization.Federated => $"z-scores with federated statistics ({data.StandardizeColumns.Count} column(s))",
            _ => "none",
        }));
    }

    private static void DescribeModel(StringBuilder text, TrainingPlan plan)
    {
        using nn.Module<Tensor, Tensor> module = PlanCompiler.CreateModule(plan);
        long total = module.parameters().Sum(p => p.numel());
        Line(text, $"Model      {total:N0} trainable parameters; input {LayerSpec.Shape([.. plan.Data.FeatureShape])}, output {LayerSpec.Shape([.. plan.OutputShape])}");
        var errors = new List<PlanError>();
        int[] shape = [.. plan.Data.FeatureShape];
        IReadOnlyList<string> names = plan.Model.ModuleNames();
        for (int i = 0; i < plan.Model.Children.Count; i++)
        {
            LayerSpec layer = plan.Model.Children[i];
            shape = layer.Infer(shape, "$", errors) ?? shape;
            long count = module.named_children().Where(c => c.name == names[i]).Sum(c => c.module.parameters().Sum(p => p.numel()));
            Line(text, $"  {names[i],-10} {layer.Summary} -> {LayerSpec.Shape(shape)}{(count > 0 ? $", {count:N0} parameters" : "")}");
        }
    }

    private static void Line(StringBuilder text, string line) => text.Append(line).Append('\n');

    private static string F(double value) => value.ToString("G", CultureInfo.InvariantCulture);
}
