namespace FederatedSharp.Clients;

/// <summary>Well-known keys of the round configuration; names follow Flower's where Flower has one.</summary>
public static class ConfigKeys
{
    /// <summary>The round number (long).</summary>
    public const string Round = "server_round";

    /// <summary>FedProx's proximal coefficient mu (double); the client adds mu/2 * ||w - w_global||^2 to its loss.</summary>
    public const string ProximalMu = "proximal_mu";

    /// <summary>Number of local optimizer steps (long). Takes precedence over <see cref="LocalEpochs"/>.</summary>
    public const string LocalSteps = "local_steps";

    /// <summary>Number of local epochs (long).</summary>
    public const string LocalEpochs = "local_epochs";

    /// <summary>Client learning rate (double).</summary>
    public const string LearningRate = "learning_rate";

    /// <summary>Client batch size (long).</summary>
    public const string BatchSize = "batch_size";

    /// <summary>
    /// Sparse updates: the fraction of an update's values a client keeps (double in (0, 1]), sent by a server that
    /// <c>UseSparseUpdates</c>; a <see cref="Compression.TopKUpdateClient"/> then returns a top-k delta.
    /// </summary>
    public const string TopKFraction = "fedsharp.topk_fraction";

    /// <summary>Metric key (bool) marking a result whose parameters are a delta from the model the client received.</summary>
    public const string IsDelta = "fedsharp.delta";

    /// <summary>
    /// Downlink deltas: sent with a whole model by a server that <c>UseDownlinkDeltas</c> (bool): a
    /// <see cref="Compression.DownlinkDeltaClient"/> keeps the model as its reference for later deltas.
    /// </summary>
    public const string DownlinkOffer = "fedsharp.downlink.offer";

    /// <summary>
    /// Downlink deltas: the hash (long, XxHash3 of the float32 values) of the reference a client must hold for the
    /// parameters received to be a delta from it; present only when they are one.
    /// </summary>
    public const string DownlinkBase = "fedsharp.downlink.base";

    /// <summary>Metric key (long): the hash of the reference a <see cref="Compression.DownlinkDeltaClient"/> holds after a fit.</summary>
    public const string DownlinkReference = "fedsharp.downlink.reference";

    /// <summary>Metric key for a client's mean training loss (double).</summary>
    public const string TrainLoss = "train_loss";

    /// <summary>Metric key for accuracy (double).</summary>
    public const string Accuracy = "accuracy";

    /// <summary>SCAFFOLD: the server control variate c, as bytes in <see cref="Serialization.BinaryModelSerializer"/> format (absent in round 1: zeros).</summary>
    public const string ScaffoldServerControl = "scaffold_c";

    /// <summary>SCAFFOLD: the client's control-variate change <c>c_i+ - c_i</c>, a fit metric in bytes (same format).</summary>
    public const string ScaffoldControlDelta = "scaffold_delta_c";

    /// <summary>Asks the client to report its loss on its training data at the received global model (bool; q-FFL needs it).</summary>
    public const string ReportInitialLoss = "report_initial_loss";

    /// <summary>Fit metric: the client's training loss at the received global model, before local training (double).</summary>
    public const string InitialLoss = "initial_loss";
}
