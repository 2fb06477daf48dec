using FederatedSharp.Plans.Tests.TestUtilities;

namespace FederatedSharp.Plans.Tests.Running;

public sealed class PlanSummaryTests
{
    [Test]
    public void Describe_HeartDiseasePlan_ShowsHashLayersDataAndPrivacy()
    {
        TrainingPlan plan = PlanFiles.Load("heart-disease");

        string text = PlanSummary.Describe(plan);

        Assert.That(text, Does.Contain("Hash       " + plan.Hash));
        Assert.That(text, Does.Contain("14 trainable parameters"));
        Assert.That(text, Does.Contain("fc         Linear 13 -> 1 with bias -> [1], 14 parameters"));
        Assert.That(text, Does.Contain("test rows marked by column 'is_test'"));
        Assert.That(text, Does.Contain("Privacy    none"));
    }

    [Test]
    public void Describe_DigitsPlan_CountsTheConvolutionParameters()
    {
        string text = PlanSummary.Describe(PlanFiles.Load("digits-cnn"));

        // conv1 16 x 1 x 3 x 3 + 16, conv2 32 x 16 x 3 x 3 + 32, fc 10 x 128 + 10.
        Assert.That(text, Does.Contain($"{160 + 4640 + 1290:N0} trainable parameters"));
        Assert.That(text, Does.Contain("pool2      Max pooling 2d, window 2, stride 2 -> [32, 2, 2]"));
    }
}
