using FederatedSharp.Analytics;
using FederatedSharp.Plans.Tests.TestUtilities;

namespace FederatedSharp.Plans.Tests.Data;

public sealed class SiteDataTests
{
    [Test]
    public void Prepare_HeartDiseaseSites_FollowFlambysSplitAndDropIncompleteRows()
    {
        TrainingPlan plan = PlanFiles.Load("heart-disease");

        // FLamby's Fed-Heart-Disease sizes (train, test) per centre after dropping incomplete rows.
        var sizes = PlanFiles.HeartSites.Select(s => SiteData.Prepare(plan, PlanFiles.HeartSite(s), s)).Select(d => (d.Train.RowCount, d.Test!.RowCount)).ToArray();

        Assert.That(sizes, Is.EqualTo(new[] { (199, 104), (172, 89), (30, 16), (85, 45) }));
    }

    [Test]
    public void Prepare_MissingColumns_NamesThemAndWhatTheTableHas()
    {
        TrainingPlan plan = PlanFiles.Load("heart-disease");
        var table = new TabularDataset(new Dictionary<string, double[]> { ["age"] = [50], ["target"] = [1] });

        var e = Assert.Throws<PlanDataException>(() => SiteData.Prepare(plan, table, "x"));

        Assert.That(e!.Message, Does.Contain("'sex'").And.Contain("'is_test'").And.Contain("it has age, target"));
    }

    [Test]
    public void Prepare_MissingValueWhenThePlanRefusesThem_NamesRowAndColumn()
    {
        TrainingPlan plan = TrainingPlan.Parse(PlanFiles.Minimal(j => j.Replace("\"split\"", "\"missingValues\": \"error\", \"split\"", StringComparison.Ordinal)));
        var table = new TabularDataset(new Dictionary<string, double[]> { ["a"] = [1, 2, 3], ["b"] = [1, double.NaN, 3], ["y"] = [0, 1, 0] });

        var e = Assert.Throws<PlanDataException>(() => SiteData.Prepare(plan, table, "x"));

        Assert.That(e!.Message, Is.EqualTo("Row 2 has no value in column 'b', and the plan's missingValues is 'error'."));
    }

    [Test]
    public void Prepare_MissingValueByDefault_DropsTheRow()
    {
        TrainingPlan plan = TrainingPlan.Parse(PlanFiles.Minimal(j => j.Replace("0.25", "0", StringComparison.Ordinal)));
        var table = new TabularDataset(new Dictionary<string, double[]> { ["a"] = [1, 2, 3], ["b"] = [1, double.NaN, 3], ["y"] = [0, 1, 0] });

        SiteData data = SiteData.Prepare(plan, table, "x");

        Assert.That(data.Train.Column("a").ToArray(), Is.EqualTo(new double[] { 1, 3 }));
        Assert.That(data.Test, Is.Null);
    }

    [Test]
    public void Prepare_LabelOutsideTheTask_Refused()
    {
        TrainingPlan plan = TrainingPlan.Parse(PlanFiles.Minimal());
        var table = new TabularDataset(new Dictionary<string, double[]> { ["a"] = [1, 2], ["b"] = [1, 2], ["y"] = [0, 2] });

        var e = Assert.Throws<PlanDataException>(() => SiteData.Prepare(plan, table, "x"));

        Assert.That(e!.Message, Is.EqualTo("Row 2, column 'y': 2 is not 0 or 1."));
    }

    [Test]
    public void Prepare_RandomSplit_IsAFunctionOfPlanAndSite()
    {
        TrainingPlan plan = TrainingPlan.Parse(PlanFiles.Minimal());
        TabularDataset table = PlanFiles.Synthetic(200, 1);

        double[] Test(string site) => SiteData.Prepare(plan, table, site).Test!.Column("a").ToArray();

        Assert.That(Test("north"), Has.Length.EqualTo(50));
        double[] again = Test("north");
        Assert.That(Test("north"), Is.EqualTo(again));
        Assert.That(Test("north"), Is.Not.EqualTo(Test("south")));
    }
}
