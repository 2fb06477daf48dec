namespace FederatedSharp.Server.Checkpoints;

/// <summary>Where a server keeps its checkpoints. <see cref="FileCheckpointStore"/> is the durable implementation.</summary>
public interface ICheckpointStore
{
    /// <summary>Saves a checkpoint durably (after this completes, a crash cannot lose it).</summary>
    /// <param name="checkpoint">The checkpoint; the caller keeps ownership.</param>
    /// <param name="cancellationToken">Cancels the save.</param>
    /// <returns>A task that completes when the checkpoint is durable.</returns>
    Task SaveAsync(FederationCheckpoint checkpoint, CancellationToken cancellationToken = default);

    /// <summary>Loads the newest valid checkpoint, skipping (and reporting) corrupt ones; null when there is none.</summary>
    /// <param name="cancellationToken">Cancels the load.</param>
    /// <returns>The checkpoint (the caller owns it) and the problems met with newer ones.</returns>
    Task<(FederationCheckpoint? Checkpoint, IReadOnlyList<string> Skipped)> LoadLatestAsync(CancellationToken cancellationToken = default);
}
