using FederatedSharp.Node.Tests.TestUtilities;
using FederatedSharp.Plans;
using FederatedSharp.Privacy;

namespace FederatedSharp.Node.Tests.Policy;

public sealed class SitePolicyTests
{
    private static TrainingPlan DpSgd(double noise) => TrainingPlan.Parse(TestNode.HeartPlanJson.Replace(
        "\"federation\"", $"\"privacy\": {{ \"dpSgd\": {{ \"maxGradNorm\": 1, \"noiseMultiplier\": {noise.ToString(System.Globalization.CultureInfo.InvariantCulture)} }} }}, \"federation\"", StringComparison.Ordinal));

    [Test]
    public void Refusal_NoiseBelowTheSitesMinimum_SaysBoth()
    {
        var policy = new SitePolicy { MinNoiseMultiplier = 1.0 };

        Assert.That(policy.Refusal(DpSgd(0.8), 199), Is.EqualTo("the plan's noise multiplier 0.8 is below this site's minimum of 1"));
        Assert.That(policy.Refusal(DpSgd(1.2), 199), Is.Null);
    }

    [Test]
    public void Refusal_EpsilonAboveTheSitesMaximum_UsesTheAccountantOnTheSitesData()
    {
        TrainingPlan plan = DpSgd(1.1);
        // 15 rounds x 100 local steps, batches of 4 of 199 rows.
        var accountant = new RdpAccountant();
        accountant.Step(4 / 199.0, 1.1, 1500);
        double epsilon = accountant.GetPrivacySpent(1e-5).Epsilon;

        Assert.That(PlanPrivacy.EstimateEpsilon(plan, 199), Is.EqualTo(epsilon));
        Assert.That(new SitePolicy { MaxEpsilon = epsilon * 1.01 }.Refusal(plan, 199), Is.Null);
        Assert.That(new SitePolicy { MaxEpsilon = epsilon * 0.99 }.Refusal(plan, 199), Does.StartWith($"the plan would spend epsilon {epsilon:G4}"));
    }

    [Test]
    public void Refusal_EpsilonCapAndNoDp_Refused() =>
        Assert.That(new SitePolicy { MaxEpsilon = 10 }.Refusal(TrainingPlan.Parse(TestNode.HeartPlanJson), 199), Does.Contain("unbounded epsilon"));

    [Test]
    public void Validate_MinimumCountBelowOne_Throws() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => new SitePolicy { MinimumCount = 0 }.Validate());
}
