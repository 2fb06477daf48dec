using FederatedSharp.Aggregation;
using FederatedSharp.Parameters;
using FederatedSharp.Server;
using FederatedSharp.Simulation;
using FederatedSharp.Tests.TestUtilities;

namespace FederatedSharp.Tests.Server;

/// <summary>Per-client metrics in the round record, and pluggable aggregation per metric.</summary>
public class MetricAggregationOptionsTests
{
    private static Task<FederationResult> RunAsync(ModelParameters initial, Action<MetricAggregationOptions>? metrics = null) =>
        FederatedSimulation.RunAsync(3, i => new CountingStateClient(i), s =>
        {
            s.UseAggregator(new FedAvg()).WithInitialParameters(initial).Configure(o => { o.Rounds = 2; o.MinAvailableClients = 3; });
            if (metrics is not null)
            {
                s.WithMetricAggregation(metrics);
            }
        }).WithTimeout();

    [Test]
    public async Task RunAsync_Default_RecordsEveryClientAndTheExampleWeightedMean()
    {
        using ModelParameters initial = TestModels.Filled(TestModels.SmallLayout, 0);
        using FederationResult result = await RunAsync(initial);
        RoundRecord round = result.History.Rounds[0];

        // In sampling order; sorted here. Client i trains on 10 + i examples with momentum i + 1 and evaluates on 5 + i examples with accuracy 0.1 (i + 1).
        Assert.Multiple(() =>
        {
            Assert.That(round.FitResults.OrderBy(r => r.ClientId, StringComparer.Ordinal).Select(r => (r.ClientId, r.ExampleCount, r.Metrics["momentum"].AsDouble())),
                Is.EqualTo(new[] { ("client-0000", 10L, 1.0), ("client-0001", 11L, 2.0), ("client-0002", 12L, 3.0) }));
            Assert.That(round.FitMetrics["momentum"].AsDouble(), Is.EqualTo(((10 * 1.0) + (11 * 2.0) + (12 * 3.0)) / 33).Within(1e-12));
            Assert.That(round.EvaluateResults.OrderBy(r => r.ClientId, StringComparer.Ordinal).Select(r => r.ExampleCount), Is.EqualTo(new[] { 5L, 6L, 7L }));
            Assert.That(round.DistributedMetrics["accuracy"].AsDouble(), Is.EqualTo(((5 * 0.1) + (6 * 0.2) + (7 * 0.3)) / 18).Within(1e-12));
        });
    }

    [Test]
    public async Task RunAsync_MeanMedianAndCustom_AggregateAsChosen()
    {
        using ModelParameters initial = TestModels.Filled(TestModels.SmallLayout, 0);
        using FederationResult result = await RunAsync(initial, m =>
        {
            m.Evaluate["accuracy"] = MetricAggregators.Mean;
            m.Fit["momentum"] = MetricAggregators.Median;
            m.DefaultEvaluate = samples => samples.Count;
        });
        RoundRecord round = result.History.Rounds[0];

        Assert.Multiple(() =>
        {
            Assert.That(round.DistributedMetrics["accuracy"].AsDouble(), Is.EqualTo(0.2).Within(1e-12), "FLamby's unweighted mean over centres");
            Assert.That(round.FitMetrics["momentum"].AsDouble(), Is.EqualTo(2.0));
        });
    }

    [Test]
    public void MetricAggregators_Median_EvenCountAveragesTheMiddleTwo()
    {
        var samples = new[] { new MetricSample("a", 1, 4), new MetricSample("b", 9, 1), new MetricSample("c", 1, 3), new MetricSample("d", 1, 10) };

        Assert.Multiple(() =>
        {
            Assert.That(MetricAggregators.Median(samples), Is.EqualTo(3.5));
            Assert.That(MetricAggregators.Mean(samples), Is.EqualTo(4.5));
            Assert.That(MetricAggregators.WeightedMean(samples), Is.EqualTo((4 + 9 + 3 + 10) / 12.0));
            Assert.That(MetricAggregators.Min(samples), Is.EqualTo(1));
            Assert.That(MetricAggregators.Max(samples), Is.EqualTo(10));
        });
    }
}
