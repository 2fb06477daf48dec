using FederatedSharp.Node.Tests.TestUtilities;
using FederatedSharp.Server.Audit;

namespace FederatedSharp.Node.Tests.Audit;

public sealed class NodeAuditLogTests
{
    [Test]
    public async Task Verify_RecordEditedOnDisk_ReportsTheLine()
    {
        using var node = new TestNode();
        await node.Home.Audit.AppendAsync("plan_approved", null, "abc", "heart", "dpo", "IRB 1");
        await node.Home.Audit.AppendAsync("job_accepted", "job-1", "abc", "heart", "dr.lee", "ok");
        string path = node.Home.Audit.Path;
        File.WriteAllText(path, File.ReadAllText(path).Replace("IRB 1", "IRB 2", StringComparison.Ordinal));

        AuditVerification result = node.Home.Audit.Verify();

        Assert.That(result.IsValid, Is.False);
        Assert.That(result.BrokenAtLine, Is.EqualTo(1));
        NodeHome reopened = NodeHome.Open(node.Directory, node.Clock);
        await Assert.ThrowsAsync<AuditLogException>(() => reopened.Audit.AppendAsync("job_refused", "job-2", null, null, null, null));
    }

    [Test]
    public async Task ReadAll_Intact_ReturnsEveryField()
    {
        using var node = new TestNode();
        await node.Home.Audit.AppendAsync("job_refused", "job-9", null, null, "dr.lee", "no dataset");

        NodeEvent e = node.Home.Audit.ReadAll().Single();

        Assert.That((e.Kind, e.Job, e.Plan, e.Actor, e.Detail, e.Time), Is.EqualTo(("job_refused", "job-9", (string?)null, "dr.lee", "no dataset", node.Clock.GetUtcNow())));
    }
}
