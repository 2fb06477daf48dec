using TorchSharp;
using static TorchSharp.torch;

namespace FederatedSharp.TorchSharp.Training;

/// <summary>Common evaluation metrics: functions of (model output, target) returning a number.</summary>
public static class TorchMetrics
{
    /// <summary>Binary accuracy: mean of <c>(output &gt; threshold) == target</c>, for probabilities (after a sigmoid).</summary>
    /// <param name="threshold">The decision threshold (default 0.5).</param>
    /// <returns>The metric.</returns>
    public static Func<Tensor, Tensor, double> BinaryAccuracy(double threshold = 0.5) => (output, target) =>
    {
        using var scope = torch.NewDisposeScope();
        Tensor predicted = output.gt(threshold).to_type(ScalarType.Float32);
        return predicted.eq(target.to_type(ScalarType.Float32)).to_type(ScalarType.Float32).mean().item<float>();
    };

    /// <summary>Multiclass accuracy: mean of <c>argmax(output) == target</c>, for logits of shape [N, C] and labels [N].</summary>
    /// <returns>The metric.</returns>
    public static Func<Tensor, Tensor, double> MulticlassAccuracy() => (output, target) =>
    {
        using var scope = torch.NewDisposeScope();
        return output.argmax(1).eq(target).to_type(ScalarType.Float32).mean().item<float>();
    };
}
