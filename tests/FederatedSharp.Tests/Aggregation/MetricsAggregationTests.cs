using FederatedSharp.Aggregation;
using FederatedSharp.Clients;

namespace FederatedSharp.Tests.Aggregation;

public class MetricsAggregationTests
{
    [Test]
    public void WeightedAverage_NumericMetrics_WeightsByExamples()
    {
        ConfigRecord result = MetricsAggregation.WeightedAverage(new[]
        {
            (10L, new ConfigRecord { ["accuracy"] = 0.5, ["name"] = "a" }),
            (30L, new ConfigRecord { ["accuracy"] = 0.9, ["only_here"] = 4 }),
        });
        Assert.Multiple(() =>
        {
            Assert.That(result.GetDouble("accuracy", 0), Is.EqualTo(0.8).Within(1e-12));
            Assert.That(result.GetDouble("only_here", 0), Is.EqualTo(4));
            Assert.That(result.ContainsKey("name"), Is.False);
        });
    }

    [Test]
    public void WeightedAverage_NoResults_IsEmpty()
    {
        Assert.That(MetricsAggregation.WeightedAverage(Array.Empty<(long, ConfigRecord)>()).Count, Is.EqualTo(0));
    }
}
