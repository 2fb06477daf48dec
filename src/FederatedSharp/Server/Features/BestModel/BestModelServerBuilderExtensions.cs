using FederatedSharp.Server.Features.BestModel;

namespace FederatedSharp.Server;

/// <summary>Best-model selection: <see cref="UseBestModelSelection"/>.</summary>
public static class BestModelServerBuilderExtensions
{
    /// <summary>
    /// Keeps the checkpoint of the round with the best value of a metric (largest or smallest) in
    /// <see cref="BestModelOptions.Store"/>; load it with the store's <c>LoadLatestAsync</c>. Rounds that failed or
    /// lack the metric are skipped; ties keep the earlier round.
    /// </summary>
    /// <param name="builder">The builder.</param>
    /// <param name="options">The store, the metric and the direction.</param>
    /// <returns>The builder.</returns>
    /// <exception cref="ArgumentException">The metric name is empty.</exception>
    public static FederatedServerBuilder UseBestModelSelection(this FederatedServerBuilder builder, BestModelOptions options)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(options.Store, nameof(options.Store));
        ArgumentException.ThrowIfNullOrEmpty(options.Metric, nameof(options.Metric));
        return builder.UseFeature(new BestModelFeature(options));
    }
}
