using TorchSharp;
using static TorchSharp.torch;

namespace FederatedSharp.Plans;

/// <summary>
/// The metrics a plan may name: <c>accuracy</c> (multiclass, argmax), <c>binary_accuracy</c>, <c>auc</c> (ROC AUC with
/// tied scores counted half), <c>mse</c> and <c>mae</c>, and <c>c_index</c> (Harrell's concordance for survival). The
/// server averages each over the sites weighted by their test rows.
/// </summary>
public static class PlanMetrics
{
    /// <summary>Every metric name, sorted.</summary>
    public static IReadOnlyList<string> Names { get; } = ["accuracy", "auc", "binary_accuracy", "c_index", "mae", "mse"];

    /// <summary>Whether a metric applies to a task.</summary>
    /// <param name="metric">The metric's name.</param>
    /// <param name="task">The label's task.</param>
    /// <returns>True when it does.</returns>
    public static bool Fits(string metric, LabelTask task) => metric switch
    {
        "accuracy" => task == LabelTask.Multiclass,
        "binary_accuracy" or "auc" => task == LabelTask.Binary,
        "mse" or "mae" => task is LabelTask.Regression or LabelTask.Binary,
        "c_index" => task == LabelTask.Survival,
        _ => false,
    };

    /// <summary>The metric as a function of (model output, target).</summary>
    internal static Func<Tensor, Tensor, double> Create(string metric, LossKind loss) => metric switch
    {
        "accuracy" => (output, target) => Scalar(() => output.argmax(1).eq(target).to_type(ScalarType.Float32).mean()),
        "binary_accuracy" => (output, target) => Scalar(() =>
            output.gt(loss == LossKind.BinaryCrossEntropyWithLogits ? 0.0 : 0.5).to_type(ScalarType.Float32).eq(target).to_type(ScalarType.Float32).mean()),
        "mse" => (output, target) => Scalar(() => output.sub(target).square().mean()),
        "mae" => (output, target) => Scalar(() => output.sub(target).abs().mean()),
        "auc" => (output, target) => Auc(Floats(output), Floats(target)),
        _ => (output, target) => ConcordanceIndex(Floats(output), Floats(target.select(1, 0)), Floats(target.select(1, 1))),
    };

    /// <summary>ROC AUC: the probability that a random positive scores above a random negative, ties counted half.</summary>
    internal static double Auc(float[] scores, float[] labels)
    {
        int[] order = Enumerable.Range(0, scores.Length).OrderBy(i => scores[i]).ToArray();
        double positiveRankSum = 0;
        long positives = 0;
        for (int start = 0; start < order.Length;)
        {
            int end = start;
            while (end + 1 < order.Length && scores[order[end + 1]] == scores[order[start]])
            {
                end++;
            }

            double rank = ((start + end) / 2.0) + 1;
            for (int k = start; k <= end; k++)
            {
                if (labels[order[k]] > 0.5f)
                {
                    positiveRankSum += rank;
                    positives++;
                }
            }

            start = end + 1;
        }

        long negatives = scores.Length - positives;
        return positives == 0 || negatives == 0 ? double.NaN : (positiveRankSum - (positives * (positives + 1) / 2.0)) / (positives * (double)negatives);
    }

    /// <summary>Harrell's C: among pairs where the earlier time is an event, the share where that row has the higher risk (ties half).</summary>
    internal static double ConcordanceIndex(float[] risk, float[] time, float[] happened)
    {
        double concordant = 0;
        long comparable = 0;
        for (int i = 0; i < risk.Length; i++)
        {
            if (happened[i] <= 0.5f)
            {
                continue;
            }

            for (int j = 0; j < risk.Length; j++)
            {
                if (time[i] < time[j])
                {
                    comparable++;
                    concordant += risk[i] > risk[j] ? 1 : risk[i] == risk[j] ? 0.5 : 0;
                }
            }
        }

        return comparable == 0 ? double.NaN : concordant / comparable;
    }

    private static double Scalar(Func<Tensor> compute)
    {
        using var scope = torch.NewDisposeScope();
        return compute().item<float>();
    }

    private static float[] Floats(Tensor tensor)
    {
        using var scope = torch.NewDisposeScope();
        return tensor.detach().to_type(ScalarType.Float32).flatten().data<float>().ToArray();
    }
}
