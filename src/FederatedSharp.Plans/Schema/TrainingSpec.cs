namespace FederatedSharp.Plans;

/// <summary>The loss a plan trains with.</summary>
public enum LossKind
{
    /// <summary>Binary cross-entropy on probabilities (the model ends in a sigmoid).</summary>
    BinaryCrossEntropy,

    /// <summary>Binary cross-entropy on logits (numerically safer; no final sigmoid).</summary>
    BinaryCrossEntropyWithLogits,

    /// <summary>Cross-entropy on class logits.</summary>
    CrossEntropy,

    /// <summary>Mean squared error.</summary>
    MeanSquaredError,

    /// <summary>The negative Cox partial log-likelihood with Breslow's handling of ties, averaged over events.</summary>
    CoxPartialLikelihood,
}

/// <summary>The local optimiser.</summary>
public enum OptimizerKind
{
    /// <summary>Stochastic gradient descent, with optional momentum, Nesterov momentum and weight decay.</summary>
    Sgd,

    /// <summary>Adam.</summary>
    Adam,

    /// <summary>AdamW (decoupled weight decay).</summary>
    AdamW,
}

/// <summary>The local optimiser and its hyperparameters.</summary>
public sealed class OptimizerSpec
{
    /// <summary>The optimiser.</summary>
    public OptimizerKind Kind { get; internal init; }

    /// <summary>The learning rate (required, &gt; 0).</summary>
    public double LearningRate { get; internal init; }

    /// <summary>SGD's momentum (default 0).</summary>
    public double Momentum { get; internal init; }

    /// <summary>SGD's Nesterov momentum (default false).</summary>
    public bool Nesterov { get; internal init; }

    /// <summary>Weight decay (default 0; AdamW 0.01).</summary>
    public double WeightDecay { get; internal init; }

    /// <summary>Adam's beta 1 (default 0.9).</summary>
    public double Beta1 { get; internal init; } = 0.9;

    /// <summary>Adam's beta 2 (default 0.999).</summary>
    public double Beta2 { get; internal init; } = 0.999;

    /// <summary>Adam's epsilon (default 1e-8).</summary>
    public double Epsilon { get; internal init; } = 1e-8;
}

/// <summary>How much each site trains per round.</summary>
public sealed class TrainingSpec
{
    /// <summary>The mini-batch size (default 32).</summary>
    public int BatchSize { get; internal init; } = 32;

    /// <summary>Optimiser steps per round; null when <see cref="LocalEpochs"/> applies.</summary>
    public int? LocalSteps { get; internal init; }

    /// <summary>Passes over the local training rows per round when <see cref="LocalSteps"/> is null (default 1).</summary>
    public int LocalEpochs { get; internal init; } = 1;
}
