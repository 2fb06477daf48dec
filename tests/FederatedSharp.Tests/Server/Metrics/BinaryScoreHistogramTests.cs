using FederatedSharp.Aggregation;
using FederatedSharp.Clients;
using FederatedSharp.Parameters;
using FederatedSharp.Server;
using FederatedSharp.Tests.TestUtilities;
using FederatedSharp.Transport.InMemory;
using HeartDisease;

namespace FederatedSharp.Tests.Server.Metrics;

/// <summary>BinaryScoreHistogram and MetricAggregators.Auc: a global AUC from sites' sufficient statistics.</summary>
public class BinaryScoreHistogramTests
{
    private static readonly TensorLayout Logistic = TensorLayout.Create(new TensorSpec("w", HeartDiseaseData.FeatureCount), new TensorSpec("b", 1));

    /// <summary>A hospital training a logistic regression by full-batch gradient descent, reporting its test scores' histogram.</summary>
    private sealed class LogisticSite(Centre centre) : IClient
    {
        public Task<ConfigRecord> GetPropertiesAsync(CancellationToken cancellationToken = default) => Task.FromResult(ConfigRecord.Empty);

        public Task<FitResult> FitAsync(FitInstructions instructions, CancellationToken cancellationToken = default)
        {
            float[] p = instructions.Parameters.Values.ToArray();
            for (int step = 0; step < 20; step++)
            {
                var gradient = new double[p.Length];
                for (int r = 0; r < centre.TrainCount; r++)
                {
                    double error = Score(p, centre.TrainFeatures, r) - centre.TrainLabels[r];
                    for (int f = 0; f < HeartDiseaseData.FeatureCount; f++)
                    {
                        gradient[f] += error * centre.TrainFeatures[(r * HeartDiseaseData.FeatureCount) + f] / centre.TrainCount;
                    }

                    gradient[^1] += error / centre.TrainCount;
                }

                for (int i = 0; i < p.Length; i++)
                {
                    p[i] -= (float)(0.1 * gradient[i]);
                }
            }

            return Task.FromResult(new FitResult(ModelParameters.FromValues(Logistic, p), centre.TrainCount, ConfigRecord.Empty));
        }

        public Task<EvaluateResult> EvaluateAsync(EvaluateInstructions instructions, CancellationToken cancellationToken = default)
        {
            float[] p = instructions.Parameters.Values.ToArray();
            var histogram = new BinaryScoreHistogram();
            for (int r = 0; r < centre.TestCount; r++)
            {
                histogram.Add(Score(p, centre.TestFeatures, r), centre.TestLabels[r] > 0.5f);
            }

            return Task.FromResult(new EvaluateResult(1, centre.TestCount, new ConfigRecord { ["auc"] = histogram.Auc(), ["auc_histogram"] = histogram.ToConfigValue() }));
        }
    }

    private static double Score(float[] p, float[] features, int row)
    {
        double z = p[^1];
        for (int f = 0; f < HeartDiseaseData.FeatureCount; f++)
        {
            z += p[f] * features[(row * HeartDiseaseData.FeatureCount) + f];
        }

        return 1 / (1 + Math.Exp(-z));
    }

    /// <summary>The exact AUC (Mann-Whitney: the share of positive-negative pairs ordered correctly, ties half).</summary>
    private static double ExactAuc(IReadOnlyList<(double Score, bool Positive)> examples)
    {
        double concordant = 0;
        var positives = examples.Where(e => e.Positive).Select(e => e.Score).ToArray();
        var negatives = examples.Where(e => !e.Positive).Select(e => e.Score).ToArray();
        foreach (double p in positives)
        {
            foreach (double n in negatives)
            {
                concordant += p > n ? 1 : p == n ? 0.5 : 0;
            }
        }

        return concordant / (positives.Length * (double)negatives.Length);
    }

    [Test]
    public async Task Auc_HeartDiseaseFederation_WithinHalfAPercentOfThePooledAuc()
    {
        HeartDiseaseDataSet data = HeartDiseaseData.Load(Path.Combine(AppContext.BaseDirectory, "data", "heart-disease"));
        await using var transport = new InMemoryTransport();
        foreach (Centre centre in data.Centres)
        {
            transport.AddClient(centre.Name, new LogisticSite(centre));
        }

        using ModelParameters initial = ModelParameters.Create(Logistic);
        using FederationResult result = await new FederatedServerBuilder().UseTransport(transport).UseAggregator(new FedAvg()).WithInitialParameters(initial)
            .WithMetricAggregation(m => m.Computed["auc"] = MetricAggregators.Auc("auc_histogram"))
            .Configure(o => o.Rounds = 5).Build().RunAsync().WithTimeout();

        float[] final = result.Parameters.Values.ToArray();
        var pooled = data.Centres.SelectMany(c => Enumerable.Range(0, c.TestCount).Select(r => (Score(final, c.TestFeatures, r), c.TestLabels[r] > 0.5f))).ToList();
        double exact = ExactAuc(pooled);
        RoundRecord last = result.History.Rounds[^1];
        double federated = last.DistributedMetrics["auc"].AsDouble();
        double meanOfLocal = last.EvaluateResults.Sum(r => r.ExampleCount * r.Metrics["auc"].AsDouble()) / last.EvaluateResults.Sum(r => r.ExampleCount);
        TestContext.Out.WriteLine($"federated AUC {federated:F5}, pooled {exact:F5}, example-weighted mean of local AUCs {meanOfLocal:F5}");

        Assert.That(federated, Is.EqualTo(exact).Within(0.005));
        Assert.That(Math.Abs(meanOfLocal - exact), Is.GreaterThan(Math.Abs(federated - exact)), "the average of local AUCs is not the global AUC");
    }

    [Test]
    public void Auc_RandomScores_WithinTheTieBoundOfTheExactAuc()
    {
        var random = new DeterministicRandom(3);
        var examples = Enumerable.Range(0, 2000).Select(_ => (Score: random.NextDouble(), Positive: random.NextDouble() < 0.3)).ToList();
        var histogram = new BinaryScoreHistogram(50);
        foreach ((double score, bool positive) in examples)
        {
            histogram.Add(score, positive);
        }

        Assert.That(histogram.Auc(), Is.EqualTo(ExactAuc(examples)).Within(histogram.TieBound));
        Assert.That(histogram.TieBound, Is.GreaterThan(0).And.LessThan(0.02));
    }

    [Test]
    public void FromConfigValue_RoundTripsAndRejectsMalformedValues()
    {
        var histogram = new BinaryScoreHistogram(4);
        histogram.Add(0.1, true);
        histogram.Add(0.9, false);

        BinaryScoreHistogram copy = BinaryScoreHistogram.FromConfigValue(histogram.ToConfigValue());

        Assert.Multiple(() =>
        {
            Assert.That((copy.Bins, copy.Positives, copy.Negatives, copy.Auc()), Is.EqualTo((4, 1L, 1L, 0.0)));
            Assert.That(() => BinaryScoreHistogram.FromConfigValue(ConfigValue.FromBytes(new byte[] { 4, 0, 0, 0, 1 })), Throws.TypeOf<FormatException>().With.Message.Contains("4 bins"));
            Assert.That(() => BinaryScoreHistogram.FromConfigValue(1.5), Throws.TypeOf<FormatException>());
            Assert.That(() => histogram.Add(1.5, true), Throws.TypeOf<ArgumentOutOfRangeException>());
        });
    }

    [Test]
    public void Auc_MetricAggregator_SkipsClientsWithoutOrWithBrokenHistograms()
    {
        var good = new BinaryScoreHistogram(10);
        good.Add(0.8, true);
        good.Add(0.2, false);
        ComputedMetric auc = MetricAggregators.Auc("h");

        double? value = auc(new[]
        {
            new ClientEvaluateMetrics("a", 2, 1, new ConfigRecord { ["h"] = good.ToConfigValue() }),
            new ClientEvaluateMetrics("b", 2, 1, new ConfigRecord { ["h"] = ConfigValue.FromBytes(new byte[] { 1, 2, 3 }) }),
            new ClientEvaluateMetrics("c", 2, 1, ConfigRecord.Empty),
        });

        Assert.That(value, Is.EqualTo(1.0));
        Assert.That(auc(new[] { new ClientEvaluateMetrics("c", 2, 1, ConfigRecord.Empty) }), Is.Null);
    }

    [Test]
    public void Worst_AccuracyAndLoss_PicksTheWorstReportingClient()
    {
        var results = new[]
        {
            new ClientEvaluateMetrics("a", 10, 1, new ConfigRecord { ["personal_accuracy"] = 0.9 }),
            new ClientEvaluateMetrics("b", 10, 1, new ConfigRecord { ["personal_accuracy"] = 0.6 }),
            new ClientEvaluateMetrics("c", 10, 1, ConfigRecord.Empty),
        };

        Assert.Multiple(() =>
        {
            Assert.That(MetricAggregators.Worst("personal_accuracy")(results), Is.EqualTo(0.6));
            Assert.That(MetricAggregators.Worst("personal_accuracy", higherIsBetter: false)(results), Is.EqualTo(0.9));
            Assert.That(MetricAggregators.Worst("missing")(results), Is.Null);
        });
    }
}
