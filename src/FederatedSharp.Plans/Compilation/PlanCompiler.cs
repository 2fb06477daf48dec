using FederatedSharp.Parameters;
using FederatedSharp.TorchSharp;
using FederatedSharp.TorchSharp.Training;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace FederatedSharp.Plans;

/// <summary>
/// Compiles a plan into TorchSharp: the module, the initial global parameters, the loss, the optimiser and the
/// trainer's options. Every site and the server compile a plan the same way, so the same plan gives the same
/// trainer everywhere.
/// </summary>
public static class PlanCompiler
{
    // torch's global generator initialises a module's parameters; seeding and building happen under one lock.
    private static readonly Lock InitLock = new();

    /// <summary>Builds the plan's module with parameters initialised from the plan's seed.</summary>
    /// <param name="plan">The plan.</param>
    /// <returns>The module (the caller owns it).</returns>
    public static nn.Module<Tensor, Tensor> CreateModule(TrainingPlan plan)
    {
        ArgumentNullException.ThrowIfNull(plan);
        lock (InitLock)
        {
            torch.random.manual_seed((long)(plan.Seed & long.MaxValue));
            return plan.Model.Build();
        }
    }

    /// <summary>The initial global parameters: the module's trainable parameters as the plan's seed initialises them.</summary>
    /// <param name="plan">The plan.</param>
    /// <returns>New parameters the caller owns.</returns>
    public static ModelParameters CreateInitialParameters(TrainingPlan plan)
    {
        using nn.Module<Tensor, Tensor> module = CreateModule(plan);
        return new TorchModelAdapter(module, includeBuffers: false).ToParameters();
    }

    /// <summary>The plan's loss as a function of (output, target).</summary>
    /// <param name="plan">The plan.</param>
    /// <returns>The loss.</returns>
    public static Func<Tensor, Tensor, Tensor> CreateLoss(TrainingPlan plan)
    {
        ArgumentNullException.ThrowIfNull(plan);
        return plan.Loss switch
        {
            LossKind.BinaryCrossEntropy => nn.BCELoss().forward,
            LossKind.BinaryCrossEntropyWithLogits => nn.BCEWithLogitsLoss().forward,
            LossKind.CrossEntropy => nn.CrossEntropyLoss().forward,
            LossKind.MeanSquaredError => nn.MSELoss().forward,
            _ => CoxLoss.Compute,
        };
    }

    /// <summary>The plan's optimiser, created for a round from the parameters and the round's learning rate.</summary>
    /// <param name="plan">The plan.</param>
    /// <returns>The factory.</returns>
    public static Func<IEnumerable<Parameter>, double, optim.Optimizer> CreateOptimizerFactory(TrainingPlan plan)
    {
        ArgumentNullException.ThrowIfNull(plan);
        OptimizerSpec o = plan.Optimizer;
        return o.Kind switch
        {
            OptimizerKind.Sgd => (parameters, lr) => optim.SGD(parameters, lr, momentum: o.Momentum, nesterov: o.Nesterov, weight_decay: o.WeightDecay),
            OptimizerKind.Adam => (parameters, lr) => optim.Adam(parameters, lr, beta1: o.Beta1, beta2: o.Beta2, eps: o.Epsilon, weight_decay: o.WeightDecay),
            _ => (parameters, lr) => optim.AdamW(parameters, lr, beta1: o.Beta1, beta2: o.Beta2, eps: o.Epsilon, weight_decay: o.WeightDecay),
        };
    }

    /// <summary>The batch-order seed of a site: a pure function of the plan's seed and the site's name.</summary>
    /// <param name="plan">The plan.</param>
    /// <param name="site">The site's name.</param>
    /// <returns>The seed.</returns>
    public static ulong SiteSeed(TrainingPlan plan, string site)
    {
        ArgumentNullException.ThrowIfNull(plan);
        ArgumentNullException.ThrowIfNull(site);
        return DeterministicRandom.Mix(plan.Seed, DeterministicRandom.HashString(site));
    }

    /// <summary>The trainer's options for a site: the plan's module, loss, optimiser, schedule, metrics and DP-SGD over the site's tensors.</summary>
    /// <param name="plan">The plan.</param>
    /// <param name="site">The site's name.</param>
    /// <param name="train">The training tensors.</param>
    /// <param name="test">The test tensors; null to evaluate on the training tensors.</param>
    /// <returns>The options (the trainer will own the module and data).</returns>
    public static TorchTrainerOptions CreateTrainerOptions(TrainingPlan plan, string site, TorchDataSet train, TorchDataSet? test)
    {
        ArgumentNullException.ThrowIfNull(plan);
        ArgumentNullException.ThrowIfNull(train);
        var options = new TorchTrainerOptions
        {
            Module = CreateModule(plan),
            Train = train,
            Test = test,
            Loss = CreateLoss(plan),
            OptimizerFactory = CreateOptimizerFactory(plan),
            LearningRate = plan.Optimizer.LearningRate,
            BatchSize = plan.Training.BatchSize,
            LocalSteps = plan.Training.LocalSteps,
            LocalEpochs = plan.Training.LocalEpochs,
            Seed = SiteSeed(plan, site),
            LossDecomposesPerExample = plan.Loss != LossKind.CoxPartialLikelihood,
            DpSgd = plan.Privacy.DpSgd is { } dp
                ? new DpSgdOptions { MaxGradNorm = dp.MaxGradNorm, NoiseMultiplier = dp.NoiseMultiplier, Delta = dp.Delta, Seed = DeterministicRandom.Mix(SiteSeed(plan, site), 0xD9) }
                : null,
        };
        foreach (string metric in plan.Metrics)
        {
            options.Metrics[metric] = PlanMetrics.Create(metric, plan.Loss);
        }

        return options;
    }
}
