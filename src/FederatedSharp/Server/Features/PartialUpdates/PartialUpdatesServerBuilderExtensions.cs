using FederatedSharp.Server.Features.PartialUpdates;

namespace FederatedSharp.Server;

/// <summary>Partial training: <see cref="UsePartialUpdates"/>.</summary>
public static class PartialUpdatesServerBuilderExtensions
{
    /// <summary>
    /// Accepts results that carry only some of the model's tensors (clients with frozen parameters send only what they
    /// train, for example <c>TorchTrainerOptions.Frozen</c>) and completes them with the model's other tensors before
    /// validation, so those keep their values and every strategy aggregates whole models. A result with a tensor the
    /// model does not have, or of another shape, is rejected naming it.
    /// </summary>
    /// <param name="builder">The builder.</param>
    /// <returns>The builder.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="builder"/> is null.</exception>
    public static FederatedServerBuilder UsePartialUpdates(this FederatedServerBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder.UseFeature(new PartialUpdatesFeature());
    }
}
