using FederatedSharp.Coordinator.Store;
using FederatedSharp.Coordinator.Tests.TestUtilities;
using FederatedSharp.Server.Audit;
using Microsoft.Extensions.Time.Testing;

namespace FederatedSharp.Coordinator.Tests.Store;

[TestFixture("sqlite")]
[TestFixture("postgresql")]
public sealed class CoordinatorStoreTests(string provider)
{
    private static readonly DateTimeOffset T0 = new(2026, 12, 1, 9, 0, 0, TimeSpan.Zero);
    private StoreDatabase _database = null!;
    private CoordinatorStore _store = null!;

    [SetUp]
    public async Task SetUp()
    {
        _database = await StoreDatabase.CreateAsync(provider);
        _store = _database.Open(new FakeTimeProvider(T0));
        await _store.MigrateAsync();
    }

    [TearDown]
    public async Task TearDown()
    {
        if (_store is not null)
        {
            await _store.DisposeAsync();
        }

        if (_database is not null)
        {
            await _database.DisposeAsync();
        }
    }

    [Test]
    public async Task MigrateAsync_FreshThenAgain_AppliesEveryVersionOnce()
    {
        await using CoordinatorStore fresh = _database.Open();

        IReadOnlyList<int> again = await fresh.MigrateAsync();

        Assert.That(again, Is.Empty);
        Assert.That(await fresh.GetSchemaVersionAsync(), Is.EqualTo(CoordinatorStore.LatestSchemaVersion));
        Assert.That(fresh.Provider, Is.EqualTo(provider));
    }

    [Test]
    public async Task MigrateAsync_DatabaseFromANewerCoordinator_Refused()
    {
        await _database.ExecuteAsync("INSERT INTO schema_migrations (version, name, applied_ms) VALUES (99, 'future', 0)");

        var e = await Assert.ThrowsAsync<InvalidOperationException>(() => _store.MigrateAsync());

        Assert.That(e!.Message, Does.Contain("schema version 99"));
    }

    [Test]
    public async Task SaveNodeAsync_ThenRevoke_KeepsEveryField()
    {
        var node = new NodeRecord { Name = "cleveland", Status = NodeStatus.PendingEnrolment, CertificateRequestPem = "CSR", RequestedAt = T0 };
        await _store.SaveNodeAsync(node);
        await _store.SaveNodeAsync(node with { Status = NodeStatus.Active, CertificatePem = "CERT", Thumbprint = "ab12", EnrolledAt = T0.AddMinutes(5) });
        Assert.That(await _store.TouchNodeAsync("cleveland", T0.AddMinutes(6), "{\"allowExport\":false}"), Is.True);

        NodeRecord active = (await _store.GetNodeAsync("cleveland"))!;
        await _store.SaveNodeAsync(active with { Status = NodeStatus.Revoked, RevokedAt = T0.AddHours(1), RevokedReason = "laptop stolen" });
        NodeRecord revoked = (await _store.GetNodeAsync("cleveland"))!;

        Assert.That(active, Is.EqualTo(node with
        {
            Status = NodeStatus.Active, CertificatePem = "CERT", Thumbprint = "ab12", EnrolledAt = T0.AddMinutes(5),
            LastSeen = T0.AddMinutes(6), PolicySummary = "{\"allowExport\":false}",
        }));
        Assert.That((revoked.Status, revoked.RevokedReason, revoked.RevokedAt), Is.EqualTo((NodeStatus.Revoked, "laptop stolen", (DateTimeOffset?)T0.AddHours(1))));
        Assert.That(await _store.TouchNodeAsync("nobody", T0), Is.False);
        Assert.That((await _store.ListNodesAsync()).Select(n => n.Name), Is.EqualTo(new[] { "cleveland" }));
    }

    [Test]
    public async Task UseEnrolmentTokenAsync_WorksOnceForItsNodeBeforeItExpires()
    {
        await _store.AddEnrolmentTokenAsync(new EnrolmentTokenRecord("h1", "cleveland", T0, T0.AddDays(1), null));
        await _store.AddEnrolmentTokenAsync(new EnrolmentTokenRecord("h2", "hungary", T0, T0.AddDays(1), null));

        Assert.That(await _store.UseEnrolmentTokenAsync("h1", "hungary", T0.AddHours(1)), Is.False, "another node's token");
        Assert.That(await _store.UseEnrolmentTokenAsync("h1", "cleveland", T0.AddHours(1)), Is.True);
        Assert.That(await _store.UseEnrolmentTokenAsync("h1", "cleveland", T0.AddHours(2)), Is.False, "used twice");
        Assert.That(await _store.UseEnrolmentTokenAsync("h2", "hungary", T0.AddDays(2)), Is.False, "expired");
    }

    [Test]
    public async Task FindApiTokenAsync_RevokedToken_CarriesItsRevocation()
    {
        await _store.AddApiTokenAsync(new ApiTokenRecord("t1", "dr.lee", Role.Researcher, T0, T0.AddDays(30), null));

        Assert.That(await _store.RevokeApiTokensAsync("dr.lee", T0.AddDays(1)), Is.EqualTo(1));

        ApiTokenRecord token = (await _store.FindApiTokenAsync("t1"))!;
        Assert.That((token.Principal, token.Role, token.RevokedAt), Is.EqualTo(("dr.lee", Role.Researcher, (DateTimeOffset?)T0.AddDays(1))));
        Assert.That(await _store.FindApiTokenAsync("nope"), Is.Null);
    }

    [Test]
    public async Task TransitionJobAsync_TwoWritersFromTheSameStatus_OnlyOneWins()
    {
        await _store.AddJobAsync(Job("job-1"));

        bool first = await _store.TransitionJobAsync("job-1", JobStatus.Running, null, T0.AddMinutes(1), [JobStatus.Queued]);
        bool second = await _store.TransitionJobAsync("job-1", JobStatus.Cancelled, "dr.lee", T0.AddMinutes(1), [JobStatus.Queued]);

        JobRecord job = (await _store.GetJobAsync("job-1"))!;
        Assert.That((first, second, job.Status, job.UpdatedAt), Is.EqualTo((true, false, JobStatus.Running, T0.AddMinutes(1))));
        Assert.That(job.Datasets, Is.EqualTo(new[] { "heart", "heart-2026" }));
        Assert.That((await _store.ListJobsAsync(JobStatus.Running)).Select(j => j.Id), Is.EqualTo(new[] { "job-1" }));
        Assert.That(await _store.ListJobsAsync(JobStatus.Queued), Is.Empty);
    }

    [Test]
    public async Task RecordNodeDecisionAsync_SecondAnswer_ReplacesTheFirst()
    {
        await _store.AddJobAsync(Job("job-1"));
        await _store.RecordNodeDecisionAsync(new JobNodeRecord("job-1", "va", NodeDecision.PendingApproval, "pending approval", null, false, T0));
        await _store.RecordNodeDecisionAsync(new JobNodeRecord("job-1", "cleveland", NodeDecision.Accepted, "approved", "heart", true, T0));
        await _store.RecordNodeDecisionAsync(new JobNodeRecord("job-1", "va", NodeDecision.Refused, "rejected", null, false, T0.AddHours(1)));

        IReadOnlyList<JobNodeRecord> decisions = await _store.ListNodeDecisionsAsync("job-1");

        Assert.That(decisions.Select(d => (d.Node, d.Decision, d.AllowExport)), Is.EqualTo(new[]
        {
            ("cleveland", NodeDecision.Accepted, true), ("va", NodeDecision.Refused, false),
        }));
    }

    [Test]
    public async Task RecordRoundAsync_RunsAndRounds_ReadBackInOrder()
    {
        await _store.AddJobAsync(Job("job-1"));
        long first = await _store.StartRunAsync("job-1", T0);
        await _store.FinishRunAsync(first, JobStatus.Failed, "coordinator restarted", T0.AddMinutes(2));
        long second = await _store.StartRunAsync("job-1", T0.AddMinutes(3));
        await _store.RecordRoundAsync(new RoundRow(second, 2, true, 0.51, "{\"auc\":0.8}", ["va", "cleveland"], "[]", TimeSpan.FromMilliseconds(1500), T0.AddMinutes(5)));
        await _store.RecordRoundAsync(new RoundRow(second, 1, false, null, "{}", [], "[{\"node\":\"va\",\"reason\":\"timeout\"}]", TimeSpan.FromSeconds(60), T0.AddMinutes(4)));

        IReadOnlyList<RunRecord> runs = await _store.ListRunsAsync("job-1");
        IReadOnlyList<RoundRow> rounds = await _store.ListRoundsAsync(second);

        Assert.That(runs.Select(r => (r.Id, r.Status, r.Error)), Is.EqualTo(new[] { (first, JobStatus.Failed, (string?)"coordinator restarted"), (second, JobStatus.Running, null) }));
        Assert.That(second, Is.GreaterThan(first));
        Assert.That(rounds.Select(r => r.Round), Is.EqualTo(new[] { 1, 2 }));
        Assert.That(rounds[1], Is.EqualTo(new RoundRow(second, 2, true, 0.51, "{\"auc\":0.8}", ["va", "cleveland"], "[]", TimeSpan.FromMilliseconds(1500), T0.AddMinutes(5))).Using<RoundRow>(SameRound));
    }

    [Test]
    public async Task VerifyAuditAsync_RowEditedInTheDatabase_ReportsTheEntry()
    {
        await _store.AppendAuditAsync("dr.lee", "job.submitted", "job-1", "plan 1079a22c4e63", T0);
        await _store.AppendAuditAsync("admin", "node.revoked", "va", "laptop stolen", T0.AddMinutes(1));
        await _store.AppendAuditAsync("coordinator", "job.started", "job-1", "", T0.AddMinutes(2));
        Assert.That((await _store.VerifyAuditAsync()).IsValid, Is.True);

        await _database.ExecuteAsync("UPDATE audit SET detail = 'lost' WHERE seq = 1");
        AuditVerification verification = await _store.VerifyAuditAsync();

        Assert.That(verification.IsValid, Is.False);
        Assert.That(verification.BrokenAtLine, Is.EqualTo(2));
        Assert.That(verification.Problem, Does.Contain("does not match its hash"));
    }

    [Test]
    public async Task AppendAuditAsync_ManyWritersAtOnce_OneUnbrokenChain()
    {
        await Task.WhenAll(Enumerable.Range(0, 16).Select(i => Task.Run(() => _store.AppendAuditAsync("node-" + i, "node.heartbeat", "n" + i, "", T0.AddSeconds(i)))));

        IReadOnlyList<CoordinatorAuditRecord> entries = await _store.ListAuditAsync();

        Assert.That(entries.Select(e => e.Sequence), Is.EqualTo(Enumerable.Range(0, 16).Select(i => (long)i)));
        Assert.That((await _store.VerifyAuditAsync()).IsValid, Is.True);
    }

    [Test]
    public async Task Open_AgainAfterARestart_SeesEverything()
    {
        await _store.AddJobAsync(Job("job-1"));
        await _store.AppendAuditAsync("dr.lee", "job.submitted", "job-1", "", T0);
        await _store.DisposeAsync();

        _store = _database.Open();
        await _store.MigrateAsync();

        Assert.That((await _store.GetJobAsync("job-1"))!.SubmittedBy, Is.EqualTo("dr.lee"));
        Assert.That((await _store.VerifyAuditAsync()).RecordCount, Is.EqualTo(1));
    }

    private static bool SameRound(RoundRow a, RoundRow b) =>
        a.RunId == b.RunId && a.Round == b.Round && a.Succeeded == b.Succeeded && a.Loss == b.Loss && a.MetricsJson == b.MetricsJson
        && a.Participants.SequenceEqual(b.Participants) && a.FailuresJson == b.FailuresJson && a.Duration == b.Duration && a.RecordedAt == b.RecordedAt;

    private static JobRecord Job(string id) => new()
    {
        Id = id,
        PlanHash = "1079a22c4e63",
        PlanJson = "{}",
        Datasets = ["heart", "heart-2026"],
        MinNodes = 3,
        SubmittedBy = "dr.lee",
        SubmittedAt = T0,
        Status = JobStatus.Queued,
        UpdatedAt = T0,
    };
}
