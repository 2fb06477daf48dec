using FederatedSharp.Diagnostics;
using FederatedSharp.Server.Checkpoints;
using FederatedSharp.Server.Engine;

namespace FederatedSharp.Server.Features.Checkpoints;

/// <summary>
/// Resumes the federation from the store's newest valid checkpoint when it starts, and checkpoints it after every
/// round: the model, the strategy's state, the driver's state (FedBuff's in-flight work), the history, client health
/// and the clients' states when the transport hosts them.
/// </summary>
internal sealed class CheckpointFeature(ICheckpointStore store) : FederationFeature
{
    public override string Name => "checkpoints";

    public override int Order => FeatureOrder.Checkpoints;

    public override async ValueTask OnStartingAsync(FederationContext context, CancellationToken cancellationToken)
    {
        (FederationCheckpoint? checkpoint, IReadOnlyList<string> skipped) = await store.LoadLatestAsync(cancellationToken).ConfigureAwait(false);
        foreach (string problem in skipped)
        {
            Log.CheckpointSkipped(context.Logger, problem);
        }

        if (checkpoint is not null)
        {
            using (checkpoint)
            {
                context.Restore(checkpoint);
                Log.Resumed(context.Logger, checkpoint.Round);
            }
        }
    }

    public override async ValueTask OnRoundCompletedAsync(FederationContext context, RoundRecord record, CancellationToken cancellationToken)
    {
        using FederationCheckpoint checkpoint = context.CreateCheckpoint();
        await store.SaveAsync(checkpoint, cancellationToken).ConfigureAwait(false);
    }
}
