using FederatedSharp.Clients;

namespace FederatedSharp.Plans;

/// <summary>The strategy and schedule of a plan.</summary>
public sealed class FederationSpec
{
    /// <summary>The strategy's name, one of <see cref="Aggregation.Aggregators.Names"/>.</summary>
    public string Strategy { get; internal init; } = "fedavg";

    /// <summary>The strategy's hyperparameters by Flower's names (whole JSON numbers are 64-bit integers).</summary>
    public ConfigRecord Hyperparameters { get; internal init; } = ConfigRecord.Empty;

    /// <summary>The number of rounds.</summary>
    public int Rounds { get; internal init; }

    /// <summary>The fewest sites a round trains on (default 1).</summary>
    public int MinClients { get; internal init; } = 1;

    /// <summary>The share of connected sites sampled for training each round (default 1).</summary>
    public double FractionFit { get; internal init; } = 1;

    /// <summary>The share of connected sites sampled for evaluation each round (default 1).</summary>
    public double FractionEvaluate { get; internal init; } = 1;

    /// <summary>
    /// Whether the final models are evaluated across sites (default false): every site's locally trained model and the
    /// global model on every site's test data. It shares each site's local model with the server and the other sites,
    /// which is why it is part of the plan a site approves.
    /// </summary>
    public bool CrossSiteEvaluation { get; internal init; }
}

/// <summary>Example-level DP-SGD at every site.</summary>
public sealed class DpSgdSpec
{
    /// <summary>The per-example gradient L2 bound C.</summary>
    public double MaxGradNorm { get; internal init; }

    /// <summary>The noise multiplier z (noise standard deviation in units of C).</summary>
    public double NoiseMultiplier { get; internal init; }

    /// <summary>The delta at which each site reports its epsilon (default 1e-5).</summary>
    public double Delta { get; internal init; } = 1e-5;
}

/// <summary>Client-level central DP on the server (DP-FedAvg: clip each update, noise the sum).</summary>
public sealed class CentralDpSpec
{
    /// <summary>The noise multiplier z.</summary>
    public double NoiseMultiplier { get; internal init; }

    /// <summary>The L2 bound each update's delta is clipped to.</summary>
    public double ClipNorm { get; internal init; }

    /// <summary>The delta of the reported epsilon (default 1e-5).</summary>
    public double Delta { get; internal init; } = 1e-5;
}

/// <summary>The privacy settings of a plan: at most one of example-level DP-SGD and client-level central DP.</summary>
public sealed class PrivacySpec
{
    /// <summary>DP-SGD at every site; null for none.</summary>
    public DpSgdSpec? DpSgd { get; internal init; }

    /// <summary>Central DP on the server; null for none.</summary>
    public CentralDpSpec? CentralDp { get; internal init; }

    /// <summary>Whether the plan trains with any differential privacy.</summary>
    public bool Any => DpSgd is not null || CentralDp is not null;
}
