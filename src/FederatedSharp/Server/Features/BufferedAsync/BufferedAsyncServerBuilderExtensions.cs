using FederatedSharp.Server.Features.BufferedAsync;

namespace FederatedSharp.Server;

/// <summary>FedBuff: <see cref="UseBufferedAsynchronousAggregation"/>.</summary>
public static class BufferedAsyncServerBuilderExtensions
{
    /// <summary>
    /// Runs the federation in buffered asynchronous mode (FedBuff) instead of synchronous rounds: see
    /// <see cref="BufferedAsyncOptions"/>. Each buffer of staleness-weighted deltas goes through the update pipeline
    /// and the strategy, so a server optimizer applies its step (FedBuff with FedAdam is FedBuff with Adam's server
    /// step; set <see cref="BufferedAsyncOptions.ServerLearningRate"/> to 1 and let the strategy's own rate act).
    /// Checkpoints, quarantine, distributed evaluation (on clients not training at that moment) and the audit log work as
    /// with synchronous rounds; one "round" of the history is one model version.
    /// </summary>
    /// <param name="builder">The builder.</param>
    /// <param name="configure">Edits the FedBuff settings.</param>
    /// <returns>The builder.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="builder"/> is null.</exception>
    public static FederatedServerBuilder UseBufferedAsynchronousAggregation(this FederatedServerBuilder builder, Action<BufferedAsyncOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var options = new BufferedAsyncOptions();
        configure?.Invoke(options);
        return builder.UseFeature(new BufferedAsyncFeature(options));
    }
}
