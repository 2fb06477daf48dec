using FederatedSharp.Analytics;
using FederatedSharp.Tests.TestUtilities;

namespace FederatedSharp.Tests.Analytics;

/// <summary>FederatedStatistics on Fed-Heart-Disease (4 hospitals) and Fed-TCGA-BRCA (6 regions) against the pooled computation.</summary>
public class FederatedStatisticsTests
{
    private const double Tolerance = 1e-9;

    private static void AssertClose(double? actual, double expected, string what) =>
        Assert.That(actual, Is.Not.Null.And.EqualTo(expected).Within(Tolerance * Math.Max(1, Math.Abs(expected))), what);

    private static (double Count, double Missing, double Sum, double Mean, double Variance, double Min, double Max) Pooled(double[] all)
    {
        double[] present = all.Where(v => !double.IsNaN(v)).ToArray();
        double mean = present.Average();
        double variance = present.Sum(v => (v - mean) * (v - mean)) / (present.Length - 1);
        return (present.Length, all.Length - present.Length, present.Sum(), mean, variance, present.Min(), present.Max());
    }

    [Test]
    public async Task ComputeAsync_HeartDiseaseWithoutSuppression_GlobalEqualsPooled()
    {
        IReadOnlyList<TabularDataset> tables = AnalyticsData.HeartDisease();
        await using var federation = new AnalyticsFederation(tables, _ => new DisclosurePolicy { MinimumCount = 1 });
        var request = new StatisticsRequest { Features = AnalyticsData.HeartFeatures, HistogramBins = 20, Quantiles = new[] { 0.1, 0.25, 0.5, 0.75, 0.9 } };

        StatisticsReport report = await new FederatedStatistics(federation.Server).ComputeAsync(request).WithTimeout();

        Assert.That(report.Failures, Is.Empty);
        Assert.That(report.Sites.Keys, Is.EqualTo(new[] { "site-0", "site-1", "site-2", "site-3" }));
        Assert.Multiple(() =>
        {
            foreach (string feature in AnalyticsData.HeartFeatures)
            {
                double[] all = AnalyticsData.Pooled(tables, feature);
                var expected = Pooled(all);
                FeatureStatistics global = report.Global.Features[feature];
                AssertClose(global.Count, expected.Count, $"{feature} count");
                AssertClose(global.Missing, expected.Missing, $"{feature} missing");
                AssertClose(global.Sum, expected.Sum, $"{feature} sum");
                AssertClose(global.Mean, expected.Mean, $"{feature} mean");
                AssertClose(global.Variance, expected.Variance, $"{feature} variance");
                AssertClose(global.StandardDeviation, Math.Sqrt(expected.Variance), $"{feature} std");
                AssertClose(global.Min, expected.Min, $"{feature} min");
                AssertClose(global.Max, expected.Max, $"{feature} max");
                Assert.That(global.IncompleteSites, Is.Empty);
                AssertHistogramAndQuantiles(global, all.Where(v => !double.IsNaN(v)).ToArray(), request.Quantiles, feature);
            }
        });
    }

    [Test]
    public async Task ComputeAsync_HeartDisease_PerSiteValuesAreEachSitesOwn()
    {
        IReadOnlyList<TabularDataset> tables = AnalyticsData.HeartDisease();
        await using var federation = new AnalyticsFederation(tables, _ => new DisclosurePolicy { MinimumCount = 1 });

        StatisticsReport report = await new FederatedStatistics(federation.Server).ComputeAsync(new StatisticsRequest { Features = new[] { "chol", "thalach" }, HistogramBins = 0 }).WithTimeout();

        Assert.Multiple(() =>
        {
            for (int s = 0; s < tables.Count; s++)
            {
                foreach (string feature in new[] { "chol", "thalach" })
                {
                    var expected = Pooled(tables[s].Column(feature).ToArray());
                    FeatureStatistics site = report.Sites[AnalyticsFederation.SiteId(s)].Features[feature];
                    AssertClose(site.Mean, expected.Mean, $"site {s} {feature} mean");
                    AssertClose(site.Variance, expected.Variance, $"site {s} {feature} variance");
                    AssertClose(site.Missing, expected.Missing, $"site {s} {feature} missing");
                    Assert.That(site.Histogram, Is.Null, "no histogram was asked for");
                }
            }
        });
    }

    [Test]
    public async Task ComputeAsync_TcgaBrcaSixRegions_GlobalEqualsPooledIncludingCovariance()
    {
        IReadOnlyList<TabularDataset> tables = AnalyticsData.TcgaBrca();
        Assert.That(tables.Sum(t => t.RowCount), Is.EqualTo(1088), "FLamby's 1,088 patients");
        await using var federation = new AnalyticsFederation(tables, _ => new DisclosurePolicy { MinimumCount = 1 });
        string[] features = { "age", "time", "event" };
        var request = new StatisticsRequest { Features = features, HistogramBins = 16, Covariance = true, Quantiles = new[] { 0.5, 0.95 } };

        StatisticsReport report = await new FederatedStatistics(federation.Server).ComputeAsync(request).WithTimeout();

        Assert.That(report.Failures, Is.Empty);
        double[][] columns = features.Select(f => AnalyticsData.Pooled(tables, f)).ToArray();
        CovarianceMatrix covariance = report.Global.Covariance!;
        Assert.Multiple(() =>
        {
            AssertClose(covariance.Count, 1088, "complete rows");
            for (int i = 0; i < features.Length; i++)
            {
                var expected = Pooled(columns[i]);
                AssertClose(report.Global.Features[features[i]].Mean, expected.Mean, $"{features[i]} mean");
                AssertClose(report.Global.Features[features[i]].Variance, expected.Variance, $"{features[i]} variance");
                AssertHistogramAndQuantiles(report.Global.Features[features[i]], columns[i], request.Quantiles, features[i]);
                for (int j = 0; j < features.Length; j++)
                {
                    double mi = columns[i].Average();
                    double mj = columns[j].Average();
                    double cov = columns[i].Zip(columns[j], (a, b) => (a - mi) * (b - mj)).Sum() / (columns[i].Length - 1);
                    double sd = Math.Sqrt(columns[i].Sum(a => (a - mi) * (a - mi)) / (columns[i].Length - 1)) * Math.Sqrt(columns[j].Sum(b => (b - mj) * (b - mj)) / (columns[j].Length - 1));
                    AssertClose(covariance.Covariance[i, j], cov, $"cov({features[i]}, {features[j]})");
                    AssertClose(covariance.Correlation[i, j], cov / sd, $"corr({features[i]}, {features[j]})");
                }
            }
        });
    }

    [Test]
    public async Task ComputeAsync_ExplicitEdges_OneQueryAndValuesOutsideCountedBelowAndAbove()
    {
        IReadOnlyList<TabularDataset> tables = AnalyticsData.HeartDisease();
        await using var federation = new AnalyticsFederation(tables, _ => new DisclosurePolicy { MinimumCount = 1 });
        double[] edges = { 40, 50, 60, 70 };

        StatisticsReport report = await new FederatedStatistics(federation.Server).ComputeAsync(new StatisticsRequest
        {
            Features = new[] { "age" },
            HistogramEdges = new Dictionary<string, double[]> { ["age"] = edges },
        }).WithTimeout();

        double[] ages = AnalyticsData.Pooled(tables, "age");
        Histogram histogram = report.Global.Features["age"].Histogram!;
        Assert.Multiple(() =>
        {
            Assert.That(histogram.Below, Is.EqualTo(ages.Count(a => a < 40)));
            Assert.That(histogram.Above, Is.EqualTo(ages.Count(a => a > 70)));
            Assert.That(histogram.Counts, Is.EqualTo(new double?[] { ages.Count(a => a >= 40 && a < 50), ages.Count(a => a >= 50 && a < 60), ages.Count(a => a >= 60 && a <= 70) }));
        });
    }

    [Test]
    public void ComputeAsync_NoFeatures_ThrowsNamingTheProblem()
    {
        var statistics = new FederatedStatistics(new AnalyticsFederation(AnalyticsData.HeartDisease()).Server);

        Assert.That(async () => await statistics.ComputeAsync(new StatisticsRequest { Features = Array.Empty<string>() }),
            Throws.ArgumentException.With.Message.Contains("feature"));
    }

    private static void AssertHistogramAndQuantiles(FeatureStatistics global, double[] present, IReadOnlyList<double> quantiles, string feature)
    {
        Histogram histogram = global.Histogram!;
        Assert.That(histogram.IsComplete, Is.True, $"{feature} histogram complete");
        var edges = histogram.Edges;
        for (int j = 0; j < histogram.Counts.Count; j++)
        {
            bool last = j == histogram.Counts.Count - 1;
            int expected = present.Count(v => v >= edges[j] && (v < edges[j + 1] || (last && v == edges[j + 1])));
            Assert.That(histogram.Counts[j], Is.EqualTo(expected), $"{feature} bin {j}");
        }

        Assert.That(global.Quantiles.Select(q => q.Probability), Is.EqualTo(quantiles), $"{feature} quantiles");
        double[] sorted = present.Order().ToArray();
        foreach (QuantileEstimate q in global.Quantiles)
        {
            double sample = sorted[Math.Max(0, (int)Math.Ceiling(q.Probability * sorted.Length) - 1)];
            Assert.That(Math.Abs(q.Value - sample), Is.LessThanOrEqualTo(q.ErrorBound * (1 + 1e-12)), $"{feature} q{q.Probability}: {q.Value} vs sample quantile {sample}");
        }
    }
}
