using FederatedSharp.Analytics;
using FederatedSharp.Tests.TestUtilities;
using MathNet.Numerics.Distributions;

namespace FederatedSharp.Tests.Analytics;

/// <summary>FederatedSurvival on Fed-TCGA-BRCA's six regions against the pooled computation.</summary>
public class FederatedSurvivalTests
{
    private static readonly SurvivalGroup[] Stages = { new(1, "stage I-II"), new(2, "stage IIIA/IIIC") };

    private static DisclosurePolicy Open() => new() { MinimumCount = 1, AllowExactEventTimes = true };

    private static List<(double Time, bool Event, double Stage)> Patients(IReadOnlyList<TabularDataset> tables, Func<double, double> round) =>
        tables.SelectMany(t => Enumerable.Range(0, t.RowCount).Select(r => (round(t.Column("time")[r]), t.Column("event")[r] != 0, t.Column("stage")[r]))).ToList();

    /// <summary>The textbook Kaplan–Meier estimate on pooled records: at each distinct time, n = #(T &gt;= t), d = #(T = t, event).</summary>
    private static List<(double Time, double Survival)> PooledKaplanMeier(IEnumerable<(double Time, bool Event)> patients)
    {
        var list = patients.ToList();
        var curve = new List<(double, double)>();
        double s = 1;
        foreach (double t in list.Select(p => p.Time).Distinct().Order())
        {
            int n = list.Count(p => p.Time >= t);
            int d = list.Count(p => p.Time == t && p.Event);
            s *= 1 - ((double)d / n);
            curve.Add((t, s));
        }

        return curve;
    }

    /// <summary>The two-group log-rank statistic on pooled records.</summary>
    private static (double Observed, double Expected, double ChiSquared) PooledLogRank(List<(double Time, bool Event, double Stage)> patients)
    {
        double o = 0, e = 0, v = 0;
        foreach (double t in patients.Where(p => p.Event).Select(p => p.Time).Distinct())
        {
            int n = patients.Count(p => p.Time >= t);
            int n1 = patients.Count(p => p.Time >= t && p.Stage == 1);
            int d = patients.Count(p => p.Time == t && p.Event);
            int d1 = patients.Count(p => p.Time == t && p.Event && p.Stage == 1);
            o += d1;
            e += (double)n1 * d / n;
            v += n > 1 ? (double)n1 * (n - n1) * d * (n - d) / ((double)n * n * (n - 1)) : 0;
        }

        return (o, e, (o - e) * (o - e) / v);
    }

    [Test]
    public async Task AnalyseAsync_ExactTimesWithoutSuppression_EqualsPooledKaplanMeierAndLogRank()
    {
        IReadOnlyList<TabularDataset> tables = AnalyticsData.TcgaBrca();
        await using var federation = new AnalyticsFederation(tables, _ => Open());
        var request = new SurvivalRequest { TimeColumn = "time", EventColumn = "event", GroupColumn = "stage", Groups = Stages };

        SurvivalReport report = await new FederatedSurvival(federation.Server).AnalyseAsync(request).WithTimeout();

        var patients = Patients(tables, t => t).Where(p => !double.IsNaN(p.Stage)).ToList();
        (double observed, double expected, double chi) = PooledLogRank(patients);
        Assert.That(report.Failures, Is.Empty);
        Assert.Multiple(() =>
        {
            for (int g = 0; g < 2; g++)
            {
                var reference = PooledKaplanMeier(patients.Where(p => p.Stage == Stages[g].Value).Select(p => (p.Time, p.Event)));
                KaplanMeierCurve curve = report.Pooled[g];
                Assert.That(curve.Points.Select(p => p.Time), Is.EqualTo(reference.Select(r => r.Time)), $"{curve.Group}: one step per distinct time");
                Assert.That(curve.Points.Select(p => p.Survival), Is.EqualTo(reference.Select(r => r.Survival)).Within(1e-9), curve.Group);
                Assert.That(curve.Count, Is.EqualTo(patients.Count(p => p.Stage == Stages[g].Value)));
            }

            LogRankResult logRank = report.LogRank!;
            Assert.That(logRank.Observed[0], Is.EqualTo(observed).Within(1e-9));
            Assert.That(logRank.Expected[0], Is.EqualTo(expected).Within(1e-9));
            Assert.That(logRank.ChiSquared, Is.EqualTo(chi).Within(1e-9 * chi));
            Assert.That(logRank.PValue, Is.EqualTo(1 - ChiSquared.CDF(1, chi)).Within(1e-12));
            Assert.That(logRank.PValue, Is.LessThan(0.05), "late stage survives worse");
        });
    }

    [Test]
    public async Task AnalyseAsync_OneGroupExactTimes_EachSitesCurveIsItsOwn()
    {
        IReadOnlyList<TabularDataset> tables = AnalyticsData.TcgaBrca();
        await using var federation = new AnalyticsFederation(tables, _ => Open());

        SurvivalReport report = await new FederatedSurvival(federation.Server).AnalyseAsync(new SurvivalRequest { TimeColumn = "time", EventColumn = "event" }).WithTimeout();

        Assert.Multiple(() =>
        {
            Assert.That(report.LogRank, Is.Null);
            for (int s = 0; s < tables.Count; s++)
            {
                var reference = PooledKaplanMeier(Patients(new[] { tables[s] }, t => t).Select(p => (p.Time, p.Event)));
                Assert.That(report.Sites[AnalyticsFederation.SiteId(s)][0].Points.Select(p => p.Survival), Is.EqualTo(reference.Select(r => r.Survival)).Within(1e-9), $"site {s}");
            }
        });
    }

    [Test]
    public async Task AnalyseAsync_TimeBins_EqualsPooledAnalysisOfTimesRoundedDownToTheirBin()
    {
        IReadOnlyList<TabularDataset> tables = AnalyticsData.TcgaBrca();
        await using var federation = new AnalyticsFederation(tables, _ => new DisclosurePolicy { MinimumCount = 1, MinSurvivalBinWidth = 90 });
        double[] bins = SurvivalRequest.EqualBins(180, 9000);

        SurvivalReport report = await new FederatedSurvival(federation.Server).AnalyseAsync(new SurvivalRequest { TimeColumn = "time", EventColumn = "event", TimeBins = bins }).WithTimeout();

        var reference = PooledKaplanMeier(Patients(tables, t => Math.Floor(t / 180) * 180).Select(p => (p.Time, p.Event)));
        KaplanMeierCurve pooled = report.Pooled[0];
        Assert.Multiple(() =>
        {
            foreach ((double time, double survival) in reference)
            {
                Assert.That(pooled.SurvivalAt(time), Is.EqualTo(survival).Within(1e-9), $"S({time})");
            }

            Assert.That(pooled.Points.Select(p => p.Time), Is.SubsetOf(bins), "the curve steps at bin edges only");
        });
    }

    [Test]
    public async Task AnalyseAsync_KOfTen_NoReleasedRowHasFewerThanTenAtRiskAndTruncatedSitesNamed()
    {
        IReadOnlyList<TabularDataset> tables = AnalyticsData.TcgaBrca();
        await using var federation = new AnalyticsFederation(tables, _ => new DisclosurePolicy { MinimumCount = 10 });

        SurvivalReport report = await new FederatedSurvival(federation.Server).AnalyseAsync(new SurvivalRequest
        {
            TimeColumn = "time", EventColumn = "event", TimeBins = SurvivalRequest.EqualBins(365, 9000),
        }).WithTimeout();

        Assert.Multiple(() =>
        {
            foreach ((string site, IReadOnlyList<KaplanMeierCurve> curves) in report.Sites)
            {
                Assert.That(curves[0].Points.Select(p => p.AtRisk), Is.All.GreaterThanOrEqualTo(10), site);
            }

            Assert.That(report.Pooled[0].TruncatedSites, Is.EqualTo(report.Sites.Keys), "every region's tail thins below 10 at risk");
            Assert.That(federation.Sites.All(s => s.Events.Any(e => e.Detail.Contains("survival tail"))), Is.True, "each site logged its suppression");
        });
    }

    [Test]
    public async Task AnalyseAsync_ExactTimesUnderTheDefaultPolicy_RefusedBySiteWithReason()
    {
        await using var federation = new AnalyticsFederation(AnalyticsData.TcgaBrca());

        SurvivalReport report = await new FederatedSurvival(federation.Server).AnalyseAsync(new SurvivalRequest { TimeColumn = "time", EventColumn = "event" }).WithTimeout();

        Assert.Multiple(() =>
        {
            Assert.That(report.Failures, Has.Count.EqualTo(6));
            Assert.That(report.Failures.Select(f => f.Reason), Is.All.Contains("exact event times"));
            Assert.That(report.Pooled[0].Points, Is.Empty);
        });
    }

    [Test]
    public async Task AnalyseAsync_BinsNarrowerThanThePolicy_RefusedAndAFinerBinningAfterACoarseOneToo()
    {
        await using var federation = new AnalyticsFederation(new[] { AnalyticsData.TcgaBrca()[0] }, _ => new DisclosurePolicy { MinSurvivalBinWidth = 30 });
        var survival = new FederatedSurvival(federation.Server);
        SurvivalReport coarse = await survival.AnalyseAsync(new SurvivalRequest { TimeColumn = "time", EventColumn = "event", TimeBins = SurvivalRequest.EqualBins(360, 9000) }).WithTimeout();

        SurvivalReport narrow = await survival.AnalyseAsync(new SurvivalRequest { TimeColumn = "time", EventColumn = "event", TimeBins = SurvivalRequest.EqualBins(7, 9000) }).WithTimeout();
        SurvivalReport finer = await survival.AnalyseAsync(new SurvivalRequest { TimeColumn = "time", EventColumn = "event", TimeBins = SurvivalRequest.EqualBins(180, 9000) }).WithTimeout();

        Assert.Multiple(() =>
        {
            Assert.That(coarse.Failures, Is.Empty);
            Assert.That(narrow.Failures.Single().Reason, Does.Contain("at least 30"));
            Assert.That(finer.Failures.Single().Reason, Does.Contain("earlier reply"));
        });
    }

    [Test]
    public void AnalyseAsync_GroupColumnWithoutGroups_ThrowsNamingTheProblem()
    {
        var survival = new FederatedSurvival(new AnalyticsFederation(AnalyticsData.TcgaBrca()).Server);

        Assert.That(async () => await survival.AnalyseAsync(new SurvivalRequest { TimeColumn = "time", EventColumn = "event", GroupColumn = "stage" }),
            Throws.ArgumentException.With.Message.Contains("GroupColumn"));
    }
}
