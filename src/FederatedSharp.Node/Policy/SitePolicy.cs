namespace FederatedSharp.Node;

/// <summary>
/// What a site allows, decided by the site and enforced by its node on every job, whatever the coordinator asks:
/// whether trained models may leave the federation, the privacy a plan must carry, and the smallest count any
/// released statistic may rest on. Which plans run, and on which datasets, is decided per plan by approval.
/// </summary>
public sealed class SitePolicy
{
    /// <summary>Whether the final global model of a job this site took part in may be downloaded (default false).</summary>
    public bool AllowExport { get; set; }

    /// <summary>The fewest records a released statistic may rest on (k-anonymity threshold; default 10).</summary>
    public int MinimumCount { get; set; } = 10;

    /// <summary>Whether a plan must train with differential privacy (DP-SGD or central DP) to run here (default false).</summary>
    public bool RequireDifferentialPrivacy { get; set; }

    /// <summary>The smallest noise multiplier a DP plan may use; null for no minimum.</summary>
    public double? MinNoiseMultiplier { get; set; }

    /// <summary>The largest epsilon a plan may spend at its delta, as estimated for this site's data; null for no maximum.</summary>
    public double? MaxEpsilon { get; set; }

    /// <summary>Checks the settings.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A setting is out of range.</exception>
    public void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(MinimumCount, 1, nameof(MinimumCount));
        if (MinNoiseMultiplier is double z && !(z >= 0 && double.IsFinite(z)))
        {
            throw new ArgumentOutOfRangeException(nameof(MinNoiseMultiplier), z, "The minimum noise multiplier must be a finite number >= 0.");
        }

        if (MaxEpsilon is double e && !(e > 0))
        {
            throw new ArgumentOutOfRangeException(nameof(MaxEpsilon), e, "The maximum epsilon must be > 0.");
        }
    }

    /// <summary>Why the policy refuses <paramref name="plan"/> on a dataset of <paramref name="trainRows"/> training rows, or null when it allows it.</summary>
    /// <param name="plan">The plan.</param>
    /// <param name="trainRows">The dataset's training rows under the plan (for the epsilon estimate).</param>
    /// <returns>The reason, or null.</returns>
    public string? Refusal(Plans.TrainingPlan plan, int trainRows)
    {
        ArgumentNullException.ThrowIfNull(plan);
        double? noise = Plans.PlanPrivacy.NoiseMultiplier(plan);
        if (RequireDifferentialPrivacy && noise is null)
        {
            return "this site requires differential privacy, and the plan has none";
        }

        if (MinNoiseMultiplier is double minimum && noise is double z && z < minimum)
        {
            return $"the plan's noise multiplier {z:G4} is below this site's minimum of {minimum:G4}";
        }

        if (MaxEpsilon is double maximum && Plans.PlanPrivacy.EstimateEpsilon(plan, trainRows) is double epsilon && epsilon > maximum)
        {
            return $"the plan would spend epsilon {epsilon:G4} at its delta on this site's data, above this site's maximum of {maximum:G4}";
        }

        if (MaxEpsilon is not null && noise is null)
        {
            return "this site caps epsilon, and the plan has no differential privacy (unbounded epsilon)";
        }

        return null;
    }
}
