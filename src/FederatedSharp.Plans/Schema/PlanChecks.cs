using FederatedSharp.Plans.Model;

namespace FederatedSharp.Plans;

/// <summary>Checks a plan's sections against each other: the model against the data's shape, the loss against the label and the model's output, the metrics and privacy against the loss.</summary>
internal static class PlanChecks
{
    /// <summary>The model's output shape, or null after recording every inconsistency.</summary>
    public static int[]? Check(DataSpec data, BlockSpec model, LossKind loss, IReadOnlyList<string> metrics, PrivacySpec privacy, List<PlanError> errors)
    {
        int before = errors.Count;
        int[]? output = model.Infer([.. data.FeatureShape], "$.model", errors);
        LabelTask task = data.Label.Task;
        LabelTask expected = loss switch
        {
            LossKind.BinaryCrossEntropy or LossKind.BinaryCrossEntropyWithLogits => LabelTask.Binary,
            LossKind.CrossEntropy => LabelTask.Multiclass,
            LossKind.MeanSquaredError => LabelTask.Regression,
            _ => LabelTask.Survival,
        };
        if (task != expected && !(loss == LossKind.MeanSquaredError && task == LabelTask.Binary))
        {
            errors.Add(new PlanError("$.loss.type", $"the loss {Name(loss)} needs a {expected.ToString().ToLowerInvariant()} label, but $.data.label.task is {task.ToString().ToLowerInvariant()}"));
        }

        if (output is not null)
        {
            int[] wanted = task == LabelTask.Multiclass ? [data.Label.Classes!.Value] : [1];
            if (!output.SequenceEqual(wanted))
            {
                errors.Add(new PlanError("$.model", $"the model outputs shape {LayerSpec.Shape(output)} per sample, but {Name(loss)} on a {task.ToString().ToLowerInvariant()} label needs {LayerSpec.Shape(wanted)}"));
            }
        }

        for (int i = 0; i < metrics.Count; i++)
        {
            if (!PlanMetrics.Names.Contains(metrics[i]))
            {
                errors.Add(new PlanError($"$.metrics[{i}]", $"unknown metric '{metrics[i]}'; known: {string.Join(", ", PlanMetrics.Names)}"));
            }
            else if (!PlanMetrics.Fits(metrics[i], task))
            {
                errors.Add(new PlanError($"$.metrics[{i}]", $"the metric '{metrics[i]}' does not apply to a {task.ToString().ToLowerInvariant()} label"));
            }
        }

        if (privacy.DpSgd is not null && loss == LossKind.CoxPartialLikelihood)
        {
            errors.Add(new PlanError("$.privacy.dpSgd", "DP-SGD clips every example's own gradient, but the Cox partial likelihood needs the whole batch; use centralDp instead"));
        }

        return errors.Count == before ? output : null;
    }

    public static string Name(LossKind loss) => PlanParser.Losses.First(p => p.Value == loss).Key;
}
