using FederatedSharp.Node.Tests.TestUtilities;
using FederatedSharp.Plans;

namespace FederatedSharp.Node.Tests.Approvals;

public sealed class PlanApprovalsTests
{
    [Test]
    public void Approve_ByHashPrefix_RecordsWhoWhenAndDatasets()
    {
        using var node = new TestNode();
        TrainingPlan plan = TrainingPlan.Parse(TestNode.HeartPlanJson);
        node.Home.Approvals.Receive(plan, ["heart"], "dr.lee");
        node.Clock.Advance(TimeSpan.FromHours(3));

        PlanApproval record = node.Home.Approvals.Approve(plan.Hash[..10], null, "dpo@cleveland", "IRB 2026-114");

        Assert.That(record.Status, Is.EqualTo(ApprovalStatus.Approved));
        Assert.That(record.Datasets, Is.EqualTo(new[] { "heart" }));
        Assert.That(record.DecidedAt, Is.EqualTo(node.Clock.GetUtcNow()));
        Assert.That(node.Home.Approvals.Find(plan.Hash)!.Note, Is.EqualTo("IRB 2026-114"));
        Assert.That(node.Home.Approvals.Pending(), Is.Empty);
    }

    [Test]
    public void Find_ShortPrefix_Refused()
    {
        using var node = new TestNode();

        Assert.Throws<ArgumentException>(() => node.Home.Approvals.Find("abc"));
    }

    [Test]
    public void Approve_UnknownPlan_SaysHowPlansArrive()
    {
        using var node = new TestNode();

        var e = Assert.Throws<KeyNotFoundException>(() => node.Home.Approvals.Approve("0123456789ab", null, "dpo"));

        Assert.That(e!.Message, Does.Contain("fedsharp node plans add"));
    }

    [Test]
    public void LoadPlan_FileChangedOnDisk_Refused()
    {
        using var node = new TestNode();
        TrainingPlan plan = TrainingPlan.Parse(TestNode.HeartPlanJson);
        node.Home.Approvals.Receive(plan, ["heart"], "dr.lee");
        string path = Path.Combine(node.Directory, "plans", plan.Hash + ".json");
        File.WriteAllText(path, File.ReadAllText(path).Replace("0.001", "0.01", StringComparison.Ordinal));

        Assert.Throws<InvalidDataException>(() => node.Home.Approvals.LoadPlan(plan.Hash));
    }
}
