using FederatedSharp.Privacy;

namespace FederatedSharp.Plans;

/// <summary>
/// The (epsilon, delta) a plan spends at most, from its own settings, so that a site can check it against its policy
/// before it runs anything. Both estimates assume the site takes part in every round (the worst case) and use the
/// RDP accountant of the sampled Gaussian mechanism.
/// </summary>
public static class PlanPrivacy
{
    /// <summary>The plan's epsilon at its own delta for a site with <paramref name="trainRows"/> training rows; null when the plan has no DP.</summary>
    /// <param name="plan">The plan.</param>
    /// <param name="trainRows">The site's training rows (DP-SGD's sampling rate is batch / rows).</param>
    /// <returns>Epsilon (infinity for a zero noise multiplier), or null.</returns>
    public static double? EstimateEpsilon(TrainingPlan plan, int trainRows)
    {
        ArgumentNullException.ThrowIfNull(plan);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(trainRows);
        if (plan.Privacy.DpSgd is { } dp)
        {
            if (dp.NoiseMultiplier == 0)
            {
                return double.PositiveInfinity;
            }

            int batch = Math.Min(plan.Training.BatchSize, trainRows);
            long perRound = plan.Training.LocalSteps ?? (long)plan.Training.LocalEpochs * ((trainRows + batch - 1) / batch);
            var accountant = new RdpAccountant();
            accountant.Step(batch / (double)trainRows, dp.NoiseMultiplier, perRound * plan.Federation.Rounds);
            return accountant.GetPrivacySpent(dp.Delta).Epsilon;
        }

        if (plan.Privacy.CentralDp is { } central)
        {
            if (central.NoiseMultiplier == 0)
            {
                return double.PositiveInfinity;
            }

            var accountant = new RdpAccountant();
            accountant.Step(plan.Federation.FractionFit, central.NoiseMultiplier, plan.Federation.Rounds);
            return accountant.GetPrivacySpent(central.Delta).Epsilon;
        }

        return null;
    }

    /// <summary>The plan's noise multiplier (DP-SGD's or central DP's); null when the plan has no DP.</summary>
    /// <param name="plan">The plan.</param>
    /// <returns>The noise multiplier, or null.</returns>
    public static double? NoiseMultiplier(TrainingPlan plan)
    {
        ArgumentNullException.ThrowIfNull(plan);
        return plan.Privacy.DpSgd?.NoiseMultiplier ?? plan.Privacy.CentralDp?.NoiseMultiplier;
    }
}
