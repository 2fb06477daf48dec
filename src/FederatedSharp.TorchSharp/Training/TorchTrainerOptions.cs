using FederatedSharp.Clients;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace FederatedSharp.TorchSharp.Training;

/// <summary>
/// Settings of <see cref="TorchTrainerClient"/>. The learning rate, batch size, local steps/epochs and proximal mu can
/// be overridden per round by the server's configuration (<see cref="ConfigKeys"/>).
/// </summary>
public sealed class TorchTrainerOptions
{
    /// <summary>The model (required). The client owns it from now on and loads the global parameters into it each round.</summary>
    public nn.Module<Tensor, Tensor>? Module { get; set; }

    /// <summary>Local training data (required).</summary>
    public TorchDataSet? Train { get; set; }

    /// <summary>Local test data; null means evaluation uses the training data.</summary>
    public TorchDataSet? Test { get; set; }

    /// <summary>The loss, a function of (output, target) such as <c>nn.BCELoss().forward</c> (required).</summary>
    public Func<Tensor, Tensor, Tensor>? Loss { get; set; }

    /// <summary>Creates the optimizer for a round from the module's parameters and the learning rate (default: plain SGD).</summary>
    public Func<IEnumerable<Parameter>, double, optim.Optimizer> OptimizerFactory { get; set; } = (parameters, lr) => optim.SGD(parameters, lr);

    /// <summary>Client learning rate (default 0.01); config key <c>learning_rate</c>.</summary>
    public double LearningRate { get; set; } = 0.01;

    /// <summary>Batch size (default 32); config key <c>batch_size</c>.</summary>
    public int BatchSize { get; set; } = 32;

    /// <summary>Local optimizer steps per round; when null, <see cref="LocalEpochs"/> applies. Config key <c>local_steps</c>.</summary>
    public int? LocalSteps { get; set; }

    /// <summary>Local epochs per round when <see cref="LocalSteps"/> is null (default 1); config key <c>local_epochs</c>.</summary>
    public int LocalEpochs { get; set; } = 1;

    /// <summary>Default proximal coefficient when the server sends none (default 0: plain local SGD).</summary>
    public double ProximalMu { get; set; }

    /// <summary>Seed of the batch order; the order of round r is a pure function of (seed, r), so runs replay exactly.</summary>
    public ulong Seed { get; set; }

    /// <summary>
    /// DP-SGD (Abadi et al. 2016): clip every example's gradient to <see cref="DpSgdOptions.MaxGradNorm"/>, add Gaussian
    /// noise of standard deviation <c>NoiseMultiplier x MaxGradNorm</c> to the batch's sum, then average; null (default)
    /// trains without it.
    /// </summary>
    public DpSgdOptions? DpSgd { get; set; }

    /// <summary>
    /// Whether the loss of a batch is the mean of per-example losses (cross-entropy, BCE, MSE: true, the default). A loss
    /// that needs the whole batch, such as the Cox partial likelihood, is not: DP-SGD, which clips every example's own
    /// gradient, is then refused. When this is left true for such a loss, DP-SGD detects it (every per-example gradient
    /// zero while the batch's is not) and fails the fit with a clear error instead of silently not training.
    /// </summary>
    public bool LossDecomposesPerExample { get; set; } = true;

    /// <summary>Personalisation (FedPer, FedBN, local fine-tuning); null (default) federates the whole model.</summary>
    public PersonalizationOptions? Personalization { get; set; }

    /// <summary>
    /// Parameters that stay as the server sent them (partial training: a frozen backbone, a fine-tuned head), by the
    /// patterns of personal layers: an exact name (<c>fc.weight</c>), a module prefix ending in a dot (<c>conv1.</c>),
    /// or a name with <c>*</c> wildcards. They are not trained, and the client's updates leave them out
    /// (<see cref="TorchTrainerClient.UpdateLayout"/>), so only the trainable tensors travel back; the server completes
    /// them with <c>UsePartialUpdates()</c>. Empty (default): everything trains.
    /// </summary>
    public IList<string> Frozen { get; } = new List<string>();

    /// <summary>
    /// When not empty, only the parameters these patterns match train (less any <see cref="Frozen"/>); the rest are
    /// frozen as if listed there. <c>Trainable.Add("*lora_*")</c> trains only the adapters of
    /// <see cref="Modules.LoraLinear"/> layers.
    /// </summary>
    public IList<string> Trainable { get; } = new List<string>();

    /// <summary>Evaluation metrics by name, each a function of (output, target); for example <see cref="TorchMetrics.BinaryAccuracy"/>.</summary>
    public IDictionary<string, Func<Tensor, Tensor, double>> Metrics { get; } = new Dictionary<string, Func<Tensor, Tensor, double>>(StringComparer.Ordinal);

    /// <summary>Checks the settings.</summary>
    /// <exception cref="ArgumentException">A required setting is missing or out of range.</exception>
    public void Validate()
    {
        if (Module is null || Train is null || Loss is null)
        {
            throw new ArgumentException("TorchTrainerOptions needs Module, Train and Loss.");
        }

        ArgumentNullException.ThrowIfNull(OptimizerFactory, nameof(OptimizerFactory));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(BatchSize, nameof(BatchSize));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(LocalEpochs, nameof(LocalEpochs));
        if (LocalSteps is { } steps)
        {
            ArgumentOutOfRangeException.ThrowIfNegativeOrZero(steps, nameof(LocalSteps));
        }

        if (!(LearningRate > 0) || !double.IsFinite(LearningRate))
        {
            throw new ArgumentOutOfRangeException(nameof(LearningRate), LearningRate, "The learning rate must be a finite number > 0.");
        }

        if (!(ProximalMu >= 0) || !double.IsFinite(ProximalMu))
        {
            throw new ArgumentOutOfRangeException(nameof(ProximalMu), ProximalMu, "The proximal coefficient must be a finite number >= 0.");
        }

        Personalization?.Validate();
        if (Train.Count == 0)
        {
            throw new ArgumentException("The training set is empty.");
        }

        if (DpSgd is not null && !LossDecomposesPerExample)
        {
            throw new ArgumentException(
                "DP-SGD clips every example's own gradient, so it needs a loss that decomposes per example; this loss is declared as needing the whole batch (LossDecomposesPerExample = false), as the Cox partial likelihood does. Use central DP on the server (UseCentralDp) instead.");
        }
    }
}

/// <summary>DP-SGD settings of <see cref="TorchTrainerOptions.DpSgd"/>.</summary>
public sealed class DpSgdOptions
{
    /// <summary>Per-example gradient L2 bound C (default 1.0).</summary>
    public double MaxGradNorm { get; set; } = 1.0;

    /// <summary>z: noise standard deviation in units of C (default 1.0).</summary>
    public double NoiseMultiplier { get; set; } = 1.0;

    /// <summary>The delta at which the client reports its cumulative epsilon as the fit metric <c>dpsgd_epsilon</c> (default 1e-5).</summary>
    public double Delta { get; set; } = 1e-5;

    /// <summary>Seed of the noise.</summary>
    public ulong Seed { get; set; }
}
