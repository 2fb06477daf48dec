using System.Text.Json;
using FederatedSharp.Analytics;
using FederatedSharp.Clients;
using FederatedSharp.Server;
using FederatedSharp.Tests.TestUtilities;

namespace FederatedSharp.Tests.Analytics;

/// <summary>AnalyticsSite: disclosure control enforced by the site.</summary>
public class AnalyticsSiteTests
{
    // 12 values in [0, 1), 3 in [1, 2), 15 in [2, 3].
    private static TabularDataset SmallCells() => new(new Dictionary<string, double[]>
    {
        ["x"] = Enumerable.Repeat(0.5, 12).Concat(Enumerable.Repeat(1.5, 3)).Concat(Enumerable.Repeat(2.5, 15)).ToArray(),
        ["y"] = Enumerable.Range(0, 30).Select(i => (double)i).ToArray(),
    });

    private static QueryInstructions Histogram(params double[] edges) =>
        new(AnalyticsQueries.Statistics, Payload.Write(new StatisticsQuery { Features = new() { "x" }, Histograms = new() { ["x"] = edges } }, AnalyticsJson.Default.StatisticsQuery));

    private static QueryInstructions Summary(params string[] features) =>
        new(AnalyticsQueries.Statistics, Payload.Write(new StatisticsQuery { Features = features.ToList() }, AnalyticsJson.Default.StatisticsQuery));

    private static DisclosurePolicy Noisy(double budget) => new()
    {
        Noise = NoiseMechanism.Laplace,
        EpsilonPerQuery = 1,
        EpsilonBudget = budget,
        NoiseSeed = 7,
        Bounds = { ["x"] = new ValueBounds(0, 3), ["y"] = new ValueBounds(0, 30) },
    };

    [Test]
    public async Task AnswerAsync_BinWithThreeRecords_ValueNeverInTheSerializedReply()
    {
        var site = new AnalyticsSite(SmallCells());

        using QueryResult result = await site.AnswerAsync(Histogram(0, 1, 2, 3)).WithTimeout();

        string json = result.Values[AnalyticsQueries.PayloadKey].AsString();
        using JsonDocument reply = JsonDocument.Parse(json);
        JsonElement feature = reply.RootElement.GetProperty("features")[0];
        JsonElement histogram = feature.GetProperty("histogram");
        JsonElement[] counts = histogram.GetProperty("counts").EnumerateArray().ToArray();
        Assert.Multiple(() =>
        {
            Assert.That(counts[1].ValueKind, Is.EqualTo(JsonValueKind.Null), "the 3-record bin is withheld");
            Assert.That(counts[0].ValueKind, Is.EqualTo(JsonValueKind.Null), "the smallest other bin is withheld too, or count - released would give 3");
            Assert.That(counts[2].GetDouble(), Is.EqualTo(15));
            double released = counts.Where(c => c.ValueKind == JsonValueKind.Number).Sum(c => c.GetDouble())
                + histogram.GetProperty("below").GetDouble() + histogram.GetProperty("above").GetDouble();
            Assert.That(feature.GetProperty("count").GetDouble() - released, Is.Not.EqualTo(3), "no difference of released values recovers the cell");
            Assert.That(site.Events.Select(e => e.Action), Has.Member(DisclosureAction.Suppressed));
        });
    }

    [Test]
    public async Task AnswerAsync_FewerThanKValues_EveryStatisticWithheldAndLogged()
    {
        var table = new TabularDataset(new Dictionary<string, double[]> { ["rare"] = new[] { 1.0, 2, 3, double.NaN, double.NaN } });
        var site = new AnalyticsSite(table);

        using QueryResult result = await site.AnswerAsync(Summary("rare")).WithTimeout();

        FeatureReply reply = Payload.Read(result.Values, AnalyticsJson.Default.StatisticsReply, "reply").Features.Single();
        Assert.Multiple(() =>
        {
            Assert.That(new[] { reply.Count, reply.Missing, reply.Sum, reply.M2, reply.Min, reply.Max }, Is.All.Null);
            Assert.That(site.Events.Count(e => e.Action == DisclosureAction.Suppressed), Is.EqualTo(2), "the count and the missing count");
        });
    }

    [Test]
    public async Task AnswerAsync_QueryPastTheBudget_RefusedWithAClearErrorAndLogged()
    {
        var site = new AnalyticsSite(SmallCells(), Noisy(budget: 2));
        (await site.AnswerAsync(Summary("x")).WithTimeout()).Dispose();
        (await site.AnswerAsync(Summary("y")).WithTimeout()).Dispose();

        QueryRefusedException? refused = await Assert.ThrowsAsync<QueryRefusedException>(() => site.AnswerAsync(Summary("x")));

        Assert.Multiple(() =>
        {
            Assert.That(refused!.Message, Does.Contain("privacy budget").And.Contain("spent so far epsilon 2"));
            Assert.That(site.EpsilonSpent, Is.EqualTo(2), "the refused query spent nothing");
            Assert.That(site.Events.Last().Action, Is.EqualTo(DisclosureAction.Refused));
            Assert.That(site.Events.Last().Detail, Does.Contain("privacy budget"));
        });
    }

    [Test]
    public async Task ComputeAsync_OneSitePastItsBudget_ReportedAsThatSitesFailureWhileTheOthersAnswer()
    {
        await using var federation = new AnalyticsFederation(new[] { SmallCells(), SmallCells() }, i => i == 0 ? Noisy(budget: 1) : new DisclosurePolicy());
        var statistics = new FederatedStatistics(federation.Server);
        var request = new StatisticsRequest { Features = new[] { "y" }, HistogramBins = 0 };
        await statistics.ComputeAsync(request).WithTimeout();

        StatisticsReport second = await statistics.ComputeAsync(request).WithTimeout();

        Assert.Multiple(() =>
        {
            Assert.That(second.Failures.Select(f => f.ClientId), Is.EqualTo(new[] { "site-0" }));
            Assert.That(second.Failures[0].Reason, Does.Contain("privacy budget"));
            Assert.That(second.Sites.Keys, Is.EqualTo(new[] { "site-1" }));
            Assert.That(second.Global.Features["y"].Mean, Is.EqualTo(14.5));
        });
    }

    [Test]
    public async Task AnswerAsync_FinerHistogramAfterACoarseOne_Refused()
    {
        var site = new AnalyticsSite(SmallCells());
        (await site.AnswerAsync(Histogram(0, 1, 2, 3)).WithTimeout()).Dispose();

        QueryRefusedException? finer = await Assert.ThrowsAsync<QueryRefusedException>(() => site.AnswerAsync(Histogram(0, 1, 1.25, 2, 3)));
        QueryRefusedException? shifted = await Assert.ThrowsAsync<QueryRefusedException>(() => site.AnswerAsync(Histogram(0, 1.1, 2, 3)));
        using QueryResult coarser = await site.AnswerAsync(Histogram(0, 2, 3)).WithTimeout();
        using QueryResult same = await site.AnswerAsync(Histogram(0, 1, 2, 3)).WithTimeout();

        Assert.Multiple(() =>
        {
            Assert.That(finer!.Message, Does.Contain("1.25").And.Contain("differenced"));
            Assert.That(shifted!.Message, Does.Contain("1.1"));
            Assert.That(site.Events.Count(e => e.Action == DisclosureAction.Refused), Is.EqualTo(2));
        });
    }

    [Test]
    public void AnswerAsync_MoreBinsThanThePolicyAllows_Refused()
    {
        var site = new AnalyticsSite(SmallCells(), new DisclosurePolicy { MaxHistogramBins = 2 });

        Assert.That(() => site.AnswerAsync(Histogram(0, 1, 2, 3)), Throws.TypeOf<QueryRefusedException>().With.Message.Contains("at most 2"));
    }

    [Test]
    public async Task AnswerAsync_LaplaceNoise_ValuesNoisySeededAndMinMaxAndCovarianceWithheld()
    {
        var first = new AnalyticsSite(SmallCells(), Noisy(budget: 10));
        var again = new AnalyticsSite(SmallCells(), Noisy(budget: 10));
        QueryInstructions query = new(AnalyticsQueries.Statistics, Payload.Write(new StatisticsQuery { Features = new() { "x", "y" }, Covariance = true }, AnalyticsJson.Default.StatisticsQuery));

        using QueryResult a = await first.AnswerAsync(query).WithTimeout();
        using QueryResult b = await again.AnswerAsync(query).WithTimeout();

        StatisticsReply reply = Payload.Read(a.Values, AnalyticsJson.Default.StatisticsReply, "reply");
        FeatureReply y = reply.Features[1];
        Assert.Multiple(() =>
        {
            Assert.That(y.Sum, Is.Not.EqualTo(435).And.EqualTo(435).Within(30 * 6 * 20), "noisy, scale 30 x 6 / epsilon");
            Assert.That(y.Count, Is.Not.EqualTo(30));
            Assert.That(new[] { y.Min, y.Max }, Is.All.Null);
            Assert.That(reply.Covariance, Is.Null);
            Assert.That(a.Values[AnalyticsQueries.PayloadKey].AsString(), Is.EqualTo(b.Values[AnalyticsQueries.PayloadKey].AsString()), "a fixed NoiseSeed replays");
            Assert.That(first.EpsilonSpent, Is.EqualTo(1));
            Assert.That(first.Events.Any(e => e.Action == DisclosureAction.Refused && e.Detail.Contains("covariance")), Is.True);
        });
    }

    [Test]
    public void AnswerAsync_NoisyQueryWithoutBounds_RefusedNamingTheColumn()
    {
        var policy = new DisclosurePolicy { Noise = NoiseMechanism.Laplace };
        var site = new AnalyticsSite(SmallCells(), policy);

        Assert.That(() => site.AnswerAsync(Summary("x")), Throws.TypeOf<QueryRefusedException>().With.Message.Contains("'x'").And.Message.Contains("Bounds"));
        Assert.That(site.EpsilonSpent, Is.Zero);
    }

    [Test]
    public void AnswerAsync_UnknownColumnOrBadJson_FormatExceptionLoggedAsRefusal()
    {
        var site = new AnalyticsSite(SmallCells());

        Assert.That(() => site.AnswerAsync(Summary("nope")), Throws.TypeOf<FormatException>().With.Message.Contains("'nope'"));
        Assert.That(() => site.AnswerAsync(new QueryInstructions(AnalyticsQueries.Statistics, new ConfigRecord { [AnalyticsQueries.PayloadKey] = "{not json" })),
            Throws.TypeOf<FormatException>().With.Message.Contains("not valid JSON"));
        Assert.That(site.Events.Count(e => e.Action == DisclosureAction.Refused), Is.EqualTo(2));
    }

    [Test]
    public void Constructor_InvalidPolicy_ThrowsNamingTheSetting()
    {
        Assert.That(() => new AnalyticsSite(SmallCells(), new DisclosurePolicy { MinimumCount = 0 }),
            Throws.TypeOf<ArgumentOutOfRangeException>().With.Property("ParamName").EqualTo("MinimumCount"));
    }

    [Test]
    public async Task QueryAsync_AnalyticsClientWithInnerTrainer_RoutesAnalyticsToTheSiteAndTheRestInside()
    {
        var inner = new ShiftClient(1f, 5);
        var client = new AnalyticsClient(new AnalyticsSite(SmallCells()), inner);

        using QueryResult analytics = await client.QueryAsync(Summary("y")).WithTimeout();

        Assert.That(analytics.Values.ContainsKey(AnalyticsQueries.PayloadKey), Is.True);
        Assert.That(() => client.QueryAsync(new QueryInstructions("other", ConfigRecord.Empty)), Throws.TypeOf<UnsupportedTaskException>());
        Assert.That(() => new AnalyticsClient(new AnalyticsSite(SmallCells())).FitAsync(null!), Throws.TypeOf<UnsupportedTaskException>());
    }
}
