using TorchSharp;
using static TorchSharp.torch;

namespace FederatedSharp.TorchSharp.Training;

/// <summary>An in-memory data set of two tensors with the same first dimension: features and targets. Owns them.</summary>
public sealed class TorchDataSet : IDisposable
{
    /// <summary>Wraps existing tensors (ownership passes to the data set).</summary>
    /// <param name="features">Inputs, shape [N, ...].</param>
    /// <param name="targets">Targets, shape [N, ...].</param>
    /// <exception cref="ArgumentException">The first dimensions differ or a tensor is a scalar.</exception>
    public TorchDataSet(Tensor features, Tensor targets)
    {
        ArgumentNullException.ThrowIfNull(features);
        ArgumentNullException.ThrowIfNull(targets);
        if (features.dim() == 0 || targets.dim() == 0 || features.shape[0] != targets.shape[0])
        {
            throw new ArgumentException($"Features [{string.Join(", ", features.shape)}] and targets [{string.Join(", ", targets.shape)}] must share their first dimension.");
        }

        Features = features.DetachFromDisposeScope();
        Targets = targets.DetachFromDisposeScope();
    }

    /// <summary>Creates a data set from row-major float features and float targets (one target per row, shape [N, 1]).</summary>
    /// <param name="features">N x <paramref name="featureCount"/> values, row-major.</param>
    /// <param name="featureCount">Features per row.</param>
    /// <param name="targets">N targets.</param>
    /// <returns>The data set.</returns>
    /// <exception cref="ArgumentException">The sizes disagree.</exception>
    public static TorchDataSet FromArrays(float[] features, int featureCount, float[] targets)
    {
        ArgumentNullException.ThrowIfNull(features);
        ArgumentNullException.ThrowIfNull(targets);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(featureCount);
        if (features.Length != targets.Length * featureCount)
        {
            throw new ArgumentException($"{features.Length} feature values do not make {targets.Length} rows of {featureCount}.", nameof(features));
        }

        return new TorchDataSet(
            torch.tensor(features, new long[] { targets.Length, featureCount }, ScalarType.Float32),
            torch.tensor(targets, new long[] { targets.Length, 1 }, ScalarType.Float32));
    }

    /// <summary>Creates a classification data set: float features and integer class labels (shape [N]).</summary>
    /// <param name="features">Features, row-major, shape [N, ...] given by <paramref name="featureShape"/>.</param>
    /// <param name="featureShape">The shape of one sample (for example [1, 8, 8]).</param>
    /// <param name="labels">N class indices.</param>
    /// <returns>The data set.</returns>
    /// <exception cref="ArgumentException">The sizes disagree.</exception>
    public static TorchDataSet FromClassification(float[] features, long[] featureShape, long[] labels)
    {
        ArgumentNullException.ThrowIfNull(features);
        ArgumentNullException.ThrowIfNull(featureShape);
        ArgumentNullException.ThrowIfNull(labels);
        long perSample = featureShape.Aggregate(1L, (a, b) => a * b);
        if (features.Length != labels.Length * perSample)
        {
            throw new ArgumentException($"{features.Length} feature values do not make {labels.Length} samples of shape [{string.Join(", ", featureShape)}].", nameof(features));
        }

        return new TorchDataSet(
            torch.tensor(features, new long[] { labels.Length }.Concat(featureShape).ToArray(), ScalarType.Float32),
            torch.tensor(labels, new long[] { labels.Length }, ScalarType.Int64));
    }

    /// <summary>The inputs.</summary>
    public Tensor Features { get; }

    /// <summary>The targets.</summary>
    public Tensor Targets { get; }

    /// <summary>The number of samples.</summary>
    public int Count => (int)Features.shape[0];

    /// <summary>Releases the tensors.</summary>
    public void Dispose()
    {
        Features.Dispose();
        Targets.Dispose();
    }
}
