using System.Text;
using System.Text.Json;
using FederatedSharp.Plans.Json;
using FederatedSharp.Plans.Model;

namespace FederatedSharp.Plans;

/// <summary>
/// A declarative training plan: the model (from <see cref="LayerCatalog"/>), the loss, the local optimiser, the
/// metrics, the data it reads, the strategy and rounds, and the privacy settings. Every site compiles it into the same
/// TorchSharp trainer; nothing in it executes code. Its identity, <see cref="Hash"/>, is the SHA-256 of the canonical
/// JSON (RFC 8785) of the plan with every default written out, so any change, even to one hyperparameter, makes a new
/// plan, while key order, spacing and number spelling do not.
/// </summary>
public sealed class TrainingPlan
{
    /// <summary>The format this version reads and writes.</summary>
    public const string CurrentFormat = "federatedsharp.plan/v1";

    private readonly string _canonical;

    internal TrainingPlan(PlanSections sections)
    {
        Name = sections.Name;
        Version = sections.Version;
        Description = sections.Description;
        Seed = sections.Seed;
        Data = sections.Data;
        Model = sections.Model;
        OutputShape = sections.OutputShape;
        Loss = sections.Loss;
        Optimizer = sections.Optimizer;
        Training = sections.Training;
        Metrics = sections.Metrics;
        Federation = sections.Federation;
        Privacy = sections.Privacy;
        Json = PlanWriter.Write(this, indented: true);
        using JsonDocument normalized = JsonDocument.Parse(Json);
        byte[] canonical = global::FederatedSharp.Plans.Json.CanonicalJson.Serialize(normalized.RootElement);
        _canonical = Encoding.UTF8.GetString(canonical);
        Hash = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(canonical));
    }

    /// <summary>The plan's name, for people.</summary>
    public string Name { get; }

    /// <summary>The author's version label of the plan, for people (the hash is what identifies it).</summary>
    public string Version { get; }

    /// <summary>What the plan is for; may be empty.</summary>
    public string Description { get; }

    /// <summary>The seed of the initial model, the sites' batch order, dropout, splits and noise.</summary>
    public ulong Seed { get; }

    /// <summary>What the plan reads at each site.</summary>
    public DataSpec Data { get; }

    /// <summary>The model: a sequential block of the plan's layers.</summary>
    public BlockSpec Model { get; }

    /// <summary>The model's output shape for one sample, as checked against the data and the loss.</summary>
    public IReadOnlyList<int> OutputShape { get; }

    /// <summary>The loss.</summary>
    public LossKind Loss { get; }

    /// <summary>The local optimiser.</summary>
    public OptimizerSpec Optimizer { get; }

    /// <summary>How much each site trains per round.</summary>
    public TrainingSpec Training { get; }

    /// <summary>The evaluation metrics by name (see <see cref="PlanMetrics.Names"/>).</summary>
    public IReadOnlyList<string> Metrics { get; }

    /// <summary>The strategy and schedule.</summary>
    public FederationSpec Federation { get; }

    /// <summary>Differential privacy settings.</summary>
    public PrivacySpec Privacy { get; }

    /// <summary>The plan with every default written out, indented; reading it back gives the same plan and hash.</summary>
    public string Json { get; }

    /// <summary>The lower-case hexadecimal SHA-256 of <see cref="CanonicalJson"/>: the plan's identity for approval.</summary>
    public string Hash { get; }

    /// <summary>The RFC 8785 canonical form of <see cref="Json"/>, the bytes <see cref="Hash"/> is taken of.</summary>
    public string CanonicalJson => _canonical;

    /// <summary>Reads and checks a plan.</summary>
    /// <param name="json">The plan's JSON text.</param>
    /// <returns>The plan.</returns>
    /// <exception cref="PlanValidationException">The text is not JSON, or the plan is malformed or inconsistent; every problem is listed with its JSON path.</exception>
    public static TrainingPlan Parse(string json)
    {
        ArgumentNullException.ThrowIfNull(json);
        return PlanParser.Parse(json);
    }

    /// <summary>Reads and checks a plan file.</summary>
    /// <param name="path">The file.</param>
    /// <returns>The plan.</returns>
    /// <exception cref="PlanValidationException">The plan is malformed or inconsistent.</exception>
    /// <exception cref="IOException">The file cannot be read.</exception>
    public static TrainingPlan Load(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        return Parse(File.ReadAllText(path));
    }

    /// <summary>The plan's name, version and short hash.</summary>
    /// <returns>The text.</returns>
    public override string ToString() => $"{Name} {Version} ({Hash[..12]})";
}

/// <summary>The parsed sections a plan is built from.</summary>
internal sealed record PlanSections(
    string Name,
    string Version,
    string Description,
    ulong Seed,
    DataSpec Data,
    BlockSpec Model,
    IReadOnlyList<int> OutputShape,
    LossKind Loss,
    OptimizerSpec Optimizer,
    TrainingSpec Training,
    IReadOnlyList<string> Metrics,
    FederationSpec Federation,
    PrivacySpec Privacy);
