namespace FederatedSharp.Plans.Tests.Compilation;

public sealed class PlanMetricsTests
{
    [Test]
    public void Auc_TiedScores_CountHalf()
    {
        // Positives score 0.9 and 0.4; negatives 0.4 and 0.1. Pairs: (0.9 > 0.4) 1, (0.9 > 0.1) 1, (0.4 = 0.4) 0.5, (0.4 > 0.1) 1.
        double auc = PlanMetrics.Auc([0.9f, 0.4f, 0.4f, 0.1f], [1, 1, 0, 0]);

        Assert.That(auc, Is.EqualTo(3.5 / 4));
    }

    [Test]
    public void Auc_OneClassOnly_IsNaN() => Assert.That(PlanMetrics.Auc([0.2f, 0.3f], [1, 1]), Is.NaN);

    [Test]
    public void ConcordanceIndex_HandExample_CountsComparablePairs()
    {
        // Times 1 (event), 2 (censored), 3 (event), 4 (event); risks 0.9, 0.5, 0.7, 0.1.
        // Comparable pairs (earlier time is an event): (1,2) (1,3) (1,4) (3,4): concordant when the earlier has the higher risk.
        // 0.9 > 0.5 yes, 0.9 > 0.7 yes, 0.9 > 0.1 yes, 0.7 > 0.1 yes -> 4 of 4; swap risks of rows 3 and 4 -> 3 of 4.
        Assert.That(PlanMetrics.ConcordanceIndex([0.9f, 0.5f, 0.7f, 0.1f], [1, 2, 3, 4], [1, 0, 1, 1]), Is.EqualTo(1.0));
        Assert.That(PlanMetrics.ConcordanceIndex([0.9f, 0.5f, 0.1f, 0.7f], [1, 2, 3, 4], [1, 0, 1, 1]), Is.EqualTo(0.75));
    }

    [TestCase("accuracy", LabelTask.Multiclass, true)]
    [TestCase("accuracy", LabelTask.Binary, false)]
    [TestCase("auc", LabelTask.Binary, true)]
    [TestCase("c_index", LabelTask.Survival, true)]
    [TestCase("mse", LabelTask.Survival, false)]
    public void Fits_MetricAndTask_AsDocumented(string metric, LabelTask task, bool fits) =>
        Assert.That(PlanMetrics.Fits(metric, task), Is.EqualTo(fits));
}
