using FederatedSharp.Node.Tests.TestUtilities;
using FederatedSharp.Plans;

namespace FederatedSharp.Node.Tests.Jobs;

public sealed class JobGateTests
{
    [Test]
    public async Task DecideAsync_PlanNotYetApproved_RecordsItPendingAndRunsNothing()
    {
        using var node = new TestNode();
        var gate = new JobGate(node.Home);

        (JobDecision decision, PlanClient? client) = await gate.DecideAsync(TestNode.Offer(TestNode.HeartPlanJson));

        string hash = TrainingPlan.Parse(TestNode.HeartPlanJson).Hash;
        Assert.That(decision.Outcome, Is.EqualTo(JobOutcome.PendingApproval));
        Assert.That(decision.Reason, Does.StartWith("pending approval"));
        Assert.That(client, Is.Null);
        Assert.That(node.Home.Approvals.Pending().Single().Hash, Is.EqualTo(hash));
        Assert.That(node.Home.Approvals.Pending().Single().RequestedBy, Is.EqualTo("dr.lee (job job-1)"));
        Assert.That(node.Home.Approvals.LoadPlan(hash).Hash, Is.EqualTo(hash));
    }

    [Test]
    public async Task DecideAsync_ApprovedPlanOnItsDataset_AcceptsWithTheCompiledClient()
    {
        using var node = new TestNode();
        var gate = new JobGate(node.Home);
        await gate.DecideAsync(TestNode.Offer(TestNode.HeartPlanJson));
        node.Home.Approvals.Approve(node.Home.Approvals.Pending()[0].Hash[..12], datasets: null, by: "dpo@cleveland");

        (JobDecision decision, PlanClient? client) = await gate.DecideAsync(TestNode.Offer(TestNode.HeartPlanJson, "job-2"));
        using PlanClient? _ = client;

        Assert.That(decision.Outcome, Is.EqualTo(JobOutcome.Accepted), decision.Reason);
        Assert.That(decision.Dataset, Is.EqualTo("heart"));
        Assert.That(client!.TrainCount, Is.EqualTo(199));
        Assert.That(client.Site, Is.EqualTo("cleveland"));
        Assert.That(decision.AllowExport, Is.False);
    }

    [Test]
    public async Task DecideAsync_ApprovedPlanWithOneHyperparameterChanged_RunsNowhere()
    {
        using var node = new TestNode();
        var gate = new JobGate(node.Home);
        await gate.DecideAsync(TestNode.Offer(TestNode.HeartPlanJson));
        node.Home.Approvals.Approve(node.Home.Approvals.Pending()[0].Hash, null, "dpo@cleveland");
        string changed = TestNode.HeartPlanJson.Replace("\"learningRate\": 0.001", "\"learningRate\": 0.002", StringComparison.Ordinal);

        (JobDecision decision, PlanClient? client) = await gate.DecideAsync(TestNode.Offer(changed, "job-2"));

        Assert.That(decision.Outcome, Is.EqualTo(JobOutcome.PendingApproval));
        Assert.That(client, Is.Null);
        Assert.That(decision.PlanHash, Is.EqualTo(TrainingPlan.Parse(changed).Hash));
    }

    [Test]
    public async Task DecideAsync_RejectedPlan_RefusedWithWhoAndWhy()
    {
        using var node = new TestNode();
        var gate = new JobGate(node.Home);
        await gate.DecideAsync(TestNode.Offer(TestNode.HeartPlanJson));
        node.Home.Approvals.Reject(node.Home.Approvals.Pending()[0].Hash, "dpo@cleveland", "no ethics approval for this study");

        (JobDecision decision, _) = await gate.DecideAsync(TestNode.Offer(TestNode.HeartPlanJson, "job-2"));

        Assert.That(decision.Outcome, Is.EqualTo(JobOutcome.Refused));
        Assert.That(decision.Reason, Does.Contain("rejected at this site by dpo@cleveland on 2026-12-01: no ethics approval for this study"));
    }

    [Test]
    public async Task DecideAsync_DatasetTheApprovalDoesNotCover_Refused()
    {
        using var node = new TestNode();
        node.Home.Datasets.Register("heart-2025", TestNode.HeartCsv("cleveland"));
        var gate = new JobGate(node.Home);
        await gate.DecideAsync(TestNode.Offer(TestNode.HeartPlanJson));
        node.Home.Approvals.Approve(node.Home.Approvals.Pending()[0].Hash, ["heart"], "dpo@cleveland");

        (JobDecision decision, _) = await gate.DecideAsync(TestNode.Offer(TestNode.HeartPlanJson, "job-2", "heart-2025"));

        Assert.That(decision.Outcome, Is.EqualTo(JobOutcome.Refused));
        Assert.That(decision.Reason, Does.EndWith("is approved at this site for heart, not for 'heart-2025'"));
    }

    [Test]
    public async Task DecideAsync_NoSuchDataset_Refused()
    {
        using var node = new TestNode(registerHeart: false);
        var gate = new JobGate(node.Home);
        await gate.DecideAsync(TestNode.Offer(TestNode.HeartPlanJson));
        node.Home.Approvals.Approve(node.Home.Approvals.Pending()[0].Hash, null, "dpo@cleveland");

        (JobDecision decision, _) = await gate.DecideAsync(TestNode.Offer(TestNode.HeartPlanJson, "job-2"));

        Assert.That(decision.Reason, Is.EqualTo("this site has no dataset named 'heart'"));
    }

    [Test]
    public async Task DecideAsync_DatasetNotMatchingTheSchema_ReportedBeforeAnyTraining()
    {
        using var node = new TestNode(registerHeart: false);
        string csv = Path.Combine(node.Directory, "other.csv");
        File.WriteAllText(csv, "age,sex,target\n50,1,0\n61,0,1\n");
        node.Home.Datasets.Register("heart", csv);
        var gate = new JobGate(node.Home);
        await gate.DecideAsync(TestNode.Offer(TestNode.HeartPlanJson));
        node.Home.Approvals.Approve(node.Home.Approvals.Pending()[0].Hash, null, "dpo@cleveland");

        (JobDecision decision, PlanClient? client) = await gate.DecideAsync(TestNode.Offer(TestNode.HeartPlanJson, "job-2"));

        Assert.That(decision.Outcome, Is.EqualTo(JobOutcome.Refused));
        Assert.That(decision.Reason, Does.Contain("the dataset 'heart' does not fit plan").And.Contain("lacks the columns 'trestbps'"));
        Assert.That(client, Is.Null);
    }

    [Test]
    public async Task DecideAsync_MalformedPlan_RefusedWithJsonPaths()
    {
        using var node = new TestNode();
        string broken = TestNode.HeartPlanJson.Replace("\"type\": \"bce\"", "\"type\": \"focal\"", StringComparison.Ordinal);

        (JobDecision decision, _) = await new JobGate(node.Home).DecideAsync(TestNode.Offer(broken));

        Assert.That(decision.Outcome, Is.EqualTo(JobOutcome.Refused));
        Assert.That(decision.Reason, Does.Contain("$.loss.type: 'focal' is not one of"));
        Assert.That(decision.PlanHash, Is.Null);
        Assert.That(node.Home.Approvals.List(), Is.Empty);
    }

    [Test]
    public async Task DecideAsync_SiteRequiresDifferentialPrivacy_RefusesAPlanWithout()
    {
        using var node = new TestNode();
        node.Home.SavePolicy(new SitePolicy { RequireDifferentialPrivacy = true });
        var gate = new JobGate(node.Home);
        await gate.DecideAsync(TestNode.Offer(TestNode.HeartPlanJson));
        node.Home.Approvals.Approve(node.Home.Approvals.Pending()[0].Hash, null, "dpo@cleveland");

        (JobDecision decision, PlanClient? client) = await gate.DecideAsync(TestNode.Offer(TestNode.HeartPlanJson, "job-2"));

        Assert.That(decision.Reason, Is.EqualTo("this site requires differential privacy, and the plan has none"));
        Assert.That(client, Is.Null);
    }

    [Test]
    public async Task DecideAsync_EveryDecision_GoesToTheNodesHashChainedLog()
    {
        using var node = new TestNode();
        var gate = new JobGate(node.Home);
        await gate.DecideAsync(TestNode.Offer(TestNode.HeartPlanJson));
        node.Home.Approvals.Approve(node.Home.Approvals.Pending()[0].Hash, null, "dpo@cleveland");
        (_, PlanClient? client) = await gate.DecideAsync(TestNode.Offer(TestNode.HeartPlanJson, "job-2"));
        client?.Dispose();

        IReadOnlyList<NodeEvent> events = node.Home.Audit.ReadAll();

        Assert.That(events.Select(e => (e.Kind, e.Job)), Is.EqualTo(new[] { ("job_pending", "job-1"), ("job_accepted", "job-2") }));
        Assert.That(events.All(e => e.Actor == "dr.lee" && e.Plan == events[0].Plan), Is.True);
        Assert.That(node.Home.Audit.Verify().IsValid, Is.True);
    }
}
