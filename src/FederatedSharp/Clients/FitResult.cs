using FederatedSharp.Parameters;

namespace FederatedSharp.Clients;

/// <summary>A client's answer to <see cref="IClient.FitAsync"/>. Owns its parameters; disposing it disposes them.</summary>
public sealed class FitResult : IDisposable
{
    /// <summary>Creates a result.</summary>
    /// <param name="parameters">The locally trained parameters (ownership passes to the result).</param>
    /// <param name="exampleCount">The number of training examples, the weight of this update in FedAvg.</param>
    /// <param name="metrics">Training metrics (for example <c>train_loss</c>); null for none.</param>
    /// <exception cref="ArgumentNullException"><paramref name="parameters"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="exampleCount"/> is negative.</exception>
    public FitResult(ModelParameters parameters, long exampleCount, ConfigRecord? metrics = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(exampleCount);
        Parameters = parameters ?? throw new ArgumentNullException(nameof(parameters));
        ExampleCount = exampleCount;
        Metrics = metrics ?? ConfigRecord.Empty;
    }

    /// <summary>The locally trained parameters.</summary>
    public ModelParameters Parameters { get; }

    /// <summary>The number of training examples.</summary>
    public long ExampleCount { get; }

    /// <summary>Training metrics.</summary>
    public ConfigRecord Metrics { get; }

    /// <summary>Disposes the parameters.</summary>
    public void Dispose() => Parameters.Dispose();
}
