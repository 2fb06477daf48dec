using FederatedSharp.Privacy;

namespace FederatedSharp.Server;

/// <summary>Update validation, the first stage of every server's update pipeline: <see cref="UseUpdateValidation"/>.</summary>
public static class UpdateValidationServerBuilderExtensions
{
    /// <summary>
    /// Sets what an update must pass before any other stage or the strategy sees it (every server validates; this
    /// changes the rules): layout and finite values always, and optionally an example-count limit, absolute and
    /// relative norm bounds and a per-client rate limit. Same as editing <see cref="FederatedServerOptions.Validation"/>.
    /// </summary>
    /// <param name="builder">The builder.</param>
    /// <param name="configure">Edits the rules.</param>
    /// <returns>The builder.</returns>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    public static FederatedServerBuilder UseUpdateValidation(this FederatedServerBuilder builder, Action<UpdateValidationOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(configure);
        return builder.Configure(o => configure(o.Validation));
    }
}
