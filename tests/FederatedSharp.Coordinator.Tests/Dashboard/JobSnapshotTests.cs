using FederatedSharp.Coordinator.Dashboard;
using FederatedSharp.Coordinator.Store;

namespace FederatedSharp.Coordinator.Tests.Dashboard;

public sealed class JobSnapshotTests
{
    private static readonly DateTimeOffset T0 = new(2026, 12, 1, 9, 0, 0, TimeSpan.Zero);

    [Test]
    public void Contributions_RoundsWithFailures_CountsEachNodesRoundsAndKeepsEveryReason()
    {
        JobSnapshot s = Snapshot(
            Round(1, ["a", "b"], """[{"node":"c","reason":"no answer within 00:01:00"}]"""),
            Round(2, ["a", "c"], """[{"node":"b","reason":"update rejected: norm 12.5 above the bound 10"}]"""),
            Round(3, ["a", "b", "c"], "[]"));

        var contributions = s.Contributions();

        Assert.That(contributions["a"].Rounds, Is.EqualTo(3));
        Assert.That(contributions["b"].Rounds, Is.EqualTo(2));
        Assert.That(contributions["b"].Failures, Is.EqualTo(new[] { (2, "update rejected: norm 12.5 above the bound 10") }));
        Assert.That(contributions["c"].Failures, Is.EqualTo(new[] { (1, "no answer within 00:01:00") }));
        string html = JobView.Live(s, new DashboardUser("v", Role.Viewer, "h"), "t").Value;
        Assert.That(html, Does.Contain("round 2: update rejected: norm 12.5 above the bound 10"), "the last failure and its reason, per node");
        Assert.That(html, Does.Contain("c: no answer within 00:01:00"), "each round's failures");
    }

    [Test]
    public void SiteEpsilons_DpSgdMetricsPerNode_KeepEachNodesLatest()
    {
        JobSnapshot s = Snapshot(
            Round(1, ["a", "b"], "[]") with { ClientMetricsJson = """{"a":{"dpsgd_epsilon":1.5},"b":{"dpsgd_epsilon":2.0}}""" },
            Round(2, ["a"], "[]") with { ClientMetricsJson = """{"a":{"dpsgd_epsilon":2.5}}""", AggregatorMetricsJson = """{"dp_epsilon":0.8}""" });

        Assert.That(s.SiteEpsilons(), Is.EqualTo(new Dictionary<string, double> { ["a"] = 2.5, ["b"] = 2.0 }));
        Assert.That(s.CentralEpsilon(), Is.EqualTo(0.8));
        Assert.That(s.RoundsDone, Is.EqualTo(2));
    }

    private static RoundRow Round(int round, string[] participants, string failures) =>
        new(1, round, true, 0.5 / round, """{"accuracy":0.7}""", participants, failures, TimeSpan.FromSeconds(1), T0.AddMinutes(round));

    private static JobSnapshot Snapshot(params RoundRow[] rounds)
    {
        var job = new JobRecord
        {
            Id = "job-1", PlanHash = new string('a', 64), PlanJson = "{}", Datasets = ["heart"], MinNodes = 2, SubmittedBy = "dr.lee",
            SubmittedAt = T0, Status = JobStatus.Running, UpdatedAt = T0,
        };
        return new JobSnapshot(job, null, [new RunRecord(1, "job-1", T0, null, JobStatus.Running, null)], rounds, []);
    }
}
