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

    private Action? _onDispose;

    /// <summary>Disposes the parameters (and releases the transport's lease on this result, such as a concurrency slot).</summary>
    public void Dispose()
    {
        Parameters.Dispose();
        Interlocked.Exchange(ref _onDispose, null)?.Invoke();
    }

    /// <summary>
    /// Ties a lease to the result: <paramref name="release"/> runs once, when the result is disposed (or at once if its
    /// parameters already are). The built-in transports use it for back-pressure: a slot taken to receive an update is
    /// given back when the server is done with it. Internal: a result has at most one lease, and only its transport
    /// attaches it.
    /// </summary>
    /// <param name="release">What to run.</param>
    /// <exception cref="InvalidOperationException">A lease is already attached.</exception>
    internal void AttachLease(Action release)
    {
        ArgumentNullException.ThrowIfNull(release);
        if (Interlocked.CompareExchange(ref _onDispose, release, null) is not null)
        {
            throw new InvalidOperationException("A lease is already attached to this result.");
        }

        if (Parameters.IsDisposed)
        {
            Interlocked.Exchange(ref _onDispose, null)?.Invoke();
        }
    }
}
