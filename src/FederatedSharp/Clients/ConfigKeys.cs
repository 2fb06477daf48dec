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

    /// <summary>Metric key for a client's mean training loss (double).</summary>
    public const string TrainLoss = "train_loss";

    /// <summary>Metric key for accuracy (double).</summary>
    public const string Accuracy = "accuracy";
}
