using FederatedSharp.Aggregation;
using FederatedSharp.Analytics;
using FederatedSharp.Clients;
using FederatedSharp.Parameters;
using FederatedSharp.Privacy;
using FederatedSharp.Server;
using FederatedSharp.Server.Checkpoints;
using FederatedSharp.Transport.InMemory;

namespace Snippets;

public static class Analytics
{
    public static IClient Site(string csvPath, IClient trainer)
    {
        // snippet: analytics-site
        // At the hospital: the table stays here; the policy is the site's, never the server's.
        TabularDataset table = TabularDataset.LoadCsv(csvPath, CsvSchema.FromHeader("age", "chol", "thalach"));
        var policy = new DisclosurePolicy
        {
            MinimumCount = 10,            // k: fewer records than this and a value is withheld
            MaxHistogramBins = 50,
            ReleaseMinMax = false,        // min and max are single patients' values
        };
        var site = new AnalyticsSite(table, policy);
        IClient client = new AnalyticsClient(site, inner: trainer);   // answers analytics, trains as before
        // site.Events: every refusal and suppression, also logged
        // end snippet
        return client;
    }

    public static async Task StatisticsAsync(InMemoryTransport transport)
    {
        // snippet: federated-statistics
        FederatedServer server = new FederatedServerBuilder().UseTransport(transport).BuildForQueries();
        StatisticsReport report = await new FederatedStatistics(server).ComputeAsync(new StatisticsRequest
        {
            Features = new[] { "age", "chol" },
            HistogramEdges = new Dictionary<string, double[]> { ["age"] = new double[] { 20, 30, 40, 50, 60, 70, 80 } },
            HistogramBins = 20,            // other features: bins from a first min/max pass
            Quantiles = new[] { 0.5, 0.9 },
            Covariance = true,
        });
        FeatureStatistics age = report.Global.Features["age"];
        Console.WriteLine($"age: n = {age.Count}, mean {age.Mean:F1}, sd {age.StandardDeviation:F1}, median {age.Quantiles[0].Value:F1} ± {age.Quantiles[0].ErrorBound}");
        // report.Sites["hospital-a"] per site; report.Failures: sites that refused, with the reason
        // end snippet
    }

    public static void NoisyPolicy()
    {
        // snippet: noisy-policy
        var policy = new DisclosurePolicy
        {
            Noise = NoiseMechanism.Laplace,
            EpsilonPerQuery = 0.5,
            EpsilonBudget = 5,                                      // then every query is refused
            Bounds = { ["age"] = new ValueBounds(18, 100) },      // clamps, fixing the sum's sensitivity
        };
        // end snippet
        policy.Validate();
    }

    public static async Task SurvivalAsync(FederatedServer server)
    {
        // snippet: federated-survival
        SurvivalReport survival = await new FederatedSurvival(server).AnalyseAsync(new SurvivalRequest
        {
            TimeColumn = "time",
            EventColumn = "event",
            TimeBins = SurvivalRequest.EqualBins(width: 90, end: 9000),   // null for exact times, if sites allow them
            GroupColumn = "stage",
            Groups = new[] { new SurvivalGroup(1, "stage I-II"), new SurvivalGroup(2, "stage III") },
        });
        Console.WriteLine($"S(5 y) = {survival.Pooled[0].SurvivalAt(5 * 365):F3}, log-rank p = {survival.LogRank!.PValue:G3}");
        // end snippet
    }

    public static async Task<CrossSiteMatrix> CrossSiteAsync(InMemoryTransport transport, IClient hospitalA, IClient hospitalB, ModelParameters initial, string bestDirectory)
    {
        // snippet: cross-site
        transport.AddClient("a", new LocalModelClient(hospitalA));   // keeps its last locally trained model
        transport.AddClient("b", new LocalModelClient(hospitalB));
        FederatedServer server = new FederatedServerBuilder()
            .UseTransport(transport).UseAggregator(new FedAvg()).WithInitialParameters(initial)
            .WithMetricAggregation(m => m.Computed["auc"] = MetricAggregators.Auc("auc_histogram"))
            .UseBestModelSelection(new BestModelOptions { Store = new FileCheckpointStore(bestDirectory, keep: 1), Metric = "auc", Maximize = true })
            .Build();
        using FederationResult result = await server.RunAsync();
        CrossSiteMatrix matrix = await new CrossSiteEvaluation(server).EvaluateAsync(result);
        double[,] accuracy = matrix.Values("accuracy");   // [model, site]: row 0 the global model; also in result.History.CrossSite
        // end snippet
        return matrix;
    }

    public static ConfigRecord AucMetrics(IEnumerable<(double Score, bool Positive)> predictions)
    {
        // snippet: auc-histogram
        // In the client's EvaluateAsync: report sufficient statistics, not a local AUC.
        var histogram = new BinaryScoreHistogram(bins: 1000);
        foreach ((double score, bool positive) in predictions)
        {
            histogram.Add(score, positive);
        }

        var metrics = new ConfigRecord { ["auc_histogram"] = histogram.ToConfigValue() };
        // end snippet
        return metrics;
    }

    public static void Accountants()
    {
        // snippet: accountants
        var rdp = new RdpAccountant();                 // Balle et al. 2020 conversion; RdpConversion.Classic for the old one
        var pld = new PldAccountant();                 // discretization 1e-4
        rdp.Step(sampleRate: 0.1, noiseMultiplier: 1.1, steps: 50);
        pld.Step(sampleRate: 0.1, noiseMultiplier: 1.1, steps: 50);
        Console.WriteLine($"RDP {rdp.GetPrivacySpent(1e-5).Epsilon:F3}, PLD {pld.GetEpsilon(1e-5):F3}");
        // end snippet
    }
}
