using FederatedSharp.Server.Checkpoints;
using FederatedSharp.Server.Features.Checkpoints;

namespace FederatedSharp.Server;

/// <summary>Checkpoints and resume: <see cref="UseCheckpointStore"/>.</summary>
public static class CheckpointServerBuilderExtensions
{
    /// <summary>
    /// Checkpoints the federation after every round into <paramref name="store"/>, and resumes from its newest valid
    /// checkpoint when the server starts (see docs/reliability.md). Works with synchronous rounds, FedBuff (in-flight
    /// work is re-sent on resume) and secure rounds; in simulation the clients' states are saved too.
    /// </summary>
    /// <param name="builder">The builder.</param>
    /// <param name="store">The store, for example a <see cref="FileCheckpointStore"/>.</param>
    /// <returns>The builder.</returns>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    public static FederatedServerBuilder UseCheckpointStore(this FederatedServerBuilder builder, ICheckpointStore store)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(store);
        return builder.UseFeature(new CheckpointFeature(store));
    }
}
