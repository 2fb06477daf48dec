namespace FederatedSharp.Clients;

/// <summary>A client's (or a centralized evaluator's) answer to an evaluation.</summary>
public sealed class EvaluateResult
{
    /// <summary>Creates a result.</summary>
    /// <param name="loss">The loss on the evaluation data.</param>
    /// <param name="exampleCount">The number of evaluation examples (the weight in the aggregate).</param>
    /// <param name="metrics">Metrics such as <c>accuracy</c>; null for none.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="exampleCount"/> is negative.</exception>
    public EvaluateResult(double loss, long exampleCount, ConfigRecord? metrics = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(exampleCount);
        Loss = loss;
        ExampleCount = exampleCount;
        Metrics = metrics ?? ConfigRecord.Empty;
    }

    /// <summary>The loss.</summary>
    public double Loss { get; }

    /// <summary>The number of evaluation examples.</summary>
    public long ExampleCount { get; }

    /// <summary>The metrics.</summary>
    public ConfigRecord Metrics { get; }
}
