using FederatedSharp.Analytics;
using FederatedSharp.Clients;
using FederatedSharp.Plans.Tests.TestUtilities;
using FederatedSharp.Server;
using FederatedSharp.Transport.InMemory;

namespace FederatedSharp.Plans.Tests.Running;

public sealed class PlanSimulationTests
{
    [Test]
    public async Task RunAsync_HeartDiseasePlanOnThreeSites_LearnsAndReplaysBitForBit()
    {
        TrainingPlan plan = PlanFiles.Load("heart-disease");

        using FederationResult first = await PlanSimulation.RunAsync(plan, PlanFiles.HeartSites3());
        using FederationResult second = await PlanSimulation.RunAsync(plan, PlanFiles.HeartSites3(), maxConcurrency: 1);

        RoundRecord last = first.History.Rounds[^1];
        Assert.That(first.History.Rounds, Has.Count.EqualTo(15));
        Assert.That(last.DistributedMetrics["binary_accuracy"].AsDouble(), Is.GreaterThan(0.7));
        Assert.That(last.DistributedMetrics["auc"].AsDouble(), Is.GreaterThan(0.75));
        Assert.That(second.Parameters.Values.ToArray(), Is.EqualTo(first.Parameters.Values.ToArray()));
    }

    [Test]
    public async Task RunAsync_PlanWithDropout_ReplaysBitForBit()
    {
        TrainingPlan plan = TrainingPlan.Parse(PlanFiles.Minimal(j => j.Replace(
            "{ \"type\": \"linear\", \"in\": 2, \"out\": 1 }",
            "{ \"type\": \"linear\", \"in\": 2, \"out\": 16 }, { \"type\": \"relu\" }, { \"type\": \"dropout\", \"p\": 0.5 }, { \"type\": \"linear\", \"in\": 16, \"out\": 1 }",
            StringComparison.Ordinal)));
        var sites = new Dictionary<string, TabularDataset> { ["a"] = PlanFiles.Synthetic(64, 1), ["b"] = PlanFiles.Synthetic(64, 2) };

        using FederationResult first = await PlanSimulation.RunAsync(plan, sites);
        using FederationResult second = await PlanSimulation.RunAsync(plan, sites);

        Assert.That(second.Parameters.Values.ToArray(), Is.EqualTo(first.Parameters.Values.ToArray()));
    }

    [Test]
    public async Task RunAsync_FederatedStandardization_SendsEverySiteThePooledStatistics()
    {
        TrainingPlan plan = TrainingPlan.Parse(PlanFiles.Minimal(j => j.Replace("\"split\"", "\"standardize\": { \"method\": \"federated\" }, \"split\"", StringComparison.Ordinal)));
        (PlanClient north, PlanClient south) = await RunNorthAndSouthAsync(plan);
        using PlanClient n = north, s = south;

        double[] pooled = PlanFiles.Synthetic(80, 1).Column("a").ToArray().Where((_, i) => TrainRow(plan, "north", PlanFiles.Synthetic(80, 1), i))
            .Concat(PlanFiles.Synthetic(120, 2, shift: 3).Column("a").ToArray().Where((_, i) => TrainRow(plan, "south", PlanFiles.Synthetic(120, 2, shift: 3), i))).ToArray();
        double mean = pooled.Average();
        double sd = Math.Sqrt(pooled.Sum(v => (v - mean) * (v - mean)) / (pooled.Length - 1));
        Assert.That(north.Scaling!.Means[0], Is.EqualTo(mean).Within(1e-9));
        Assert.That(north.Scaling.StandardDeviations[0], Is.EqualTo(sd).Within(1e-9));
        Assert.That(south.Scaling!.Means, Is.EqualTo(north.Scaling.Means));
    }

    [Test]
    public async Task RunAsync_SiteScaling_UsesEachSitesOwnStatistics()
    {
        TrainingPlan plan = TrainingPlan.Parse(PlanFiles.Minimal(j => j.Replace("\"split\"", "\"standardize\": { \"method\": \"site\", \"columns\": [\"a\"] }, \"split\"", StringComparison.Ordinal)));
        (PlanClient north, PlanClient south) = await RunNorthAndSouthAsync(plan);
        using PlanClient n = north, s = south;

        Assert.That(north.Scaling!.Columns, Is.EqualTo(new[] { "a" }));
        Assert.That(south.Scaling!.Means[0] - north.Scaling.Means[0], Is.GreaterThan(2));
    }

    [Test]
    public async Task RunAsync_SiteWhoseTableDoesNotFit_ReportsTheSiteBeforeTraining()
    {
        TrainingPlan plan = PlanFiles.Load("heart-disease");
        var sites = PlanFiles.HeartSites3();
        sites["broken"] = new TabularDataset(new Dictionary<string, double[]> { ["age"] = [1] });

        var e = await Assert.ThrowsAsync<PlanDataException>(() => PlanSimulation.RunAsync(plan, sites));

        Assert.That(e!.Message, Does.StartWith("Site 'broken': The data set lacks the columns"));
    }

    [Test]
    public async Task FitAsync_TaskForAnotherPlan_Refused()
    {
        TrainingPlan plan = TrainingPlan.Parse(PlanFiles.Minimal());
        using var client = new PlanClient(plan, "north", PlanFiles.Synthetic(40, 1));
        using var parameters = PlanCompiler.CreateInitialParameters(plan);
        var config = new ConfigRecord { [PlanClient.PlanHashKey] = new string('0', 64) };

        var e = await Assert.ThrowsAsync<InvalidOperationException>(() => client.FitAsync(new FitInstructions(1, parameters, config)));

        Assert.That(e!.Message, Does.Contain("runs plan " + plan.Hash[..12]).And.Contain("for plan 000000000000"));
        Assert.That((await client.GetPropertiesAsync())[PlanClient.PlanHashKey].AsString(), Is.EqualTo(plan.Hash));
    }

    [Test]
    public async Task RunAsync_PlanAsksForCrossSiteEvaluation_EvaluatesTheGlobalAndEachLocalModelOnEverySite()
    {
        TrainingPlan plan = TrainingPlan.Parse(PlanFiles.Minimal(j => j.Replace("\"minClients\": 2 }", "\"minClients\": 2, \"crossSiteEvaluation\": true }")));
        var sites = new Dictionary<string, TabularDataset> { ["north"] = PlanFiles.Synthetic(80, 1), ["south"] = PlanFiles.Synthetic(120, 2, shift: 3) };

        using FederationResult result = await PlanSimulation.RunAsync(plan, sites);

        CrossSiteMatrix matrix = result.History.CrossSite!;
        Assert.That(plan.Federation.CrossSiteEvaluation, Is.True);
        Assert.That(matrix.Models, Is.EquivalentTo(new[] { CrossSiteMatrix.GlobalModel, "north", "south" }));
        Assert.That(matrix.Sites, Is.EquivalentTo(new[] { "north", "south" }));
        Assert.That(matrix.Failures, Is.Empty);
        foreach (ClientEvaluateMetrics last in result.History.Rounds[^1].EvaluateResults)
        {
            // The global row is the final model, which the last round evaluated too.
            Assert.That(matrix[CrossSiteMatrix.GlobalModel, last.ClientId]!.Loss, Is.EqualTo(last.Loss));
        }

        Assert.That(matrix["north", "north"]!.Loss, Is.Not.EqualTo(matrix[CrossSiteMatrix.GlobalModel, "north"]!.Loss), "a local model is not the global one");
    }

    [Test]
    public async Task QueryAsync_LocalModelWhenThePlanDoesNotAskForCrossSite_RefusedWithTheReason()
    {
        TrainingPlan plan = TrainingPlan.Parse(PlanFiles.Minimal());
        using var client = new PlanClient(plan, "north", PlanFiles.Synthetic(40, 1));

        var e = await Assert.ThrowsAsync<PlanDataException>(() => client.QueryAsync(new QueryInstructions(CrossSiteQueries.LocalModel, ConfigRecord.Empty)));

        Assert.That(e!.Message, Does.Contain("does not ask for cross-site evaluation"));
        Assert.That(plan.Federation.CrossSiteEvaluation, Is.False);
    }

    // Two sites whose feature 'a' differs by a shift of 3, run through the plan's server side over an in-memory transport.
    private static async Task<(PlanClient North, PlanClient South)> RunNorthAndSouthAsync(TrainingPlan plan)
    {
        var north = new PlanClient(plan, "north", PlanFiles.Synthetic(80, 1));
        var south = new PlanClient(plan, "south", PlanFiles.Synthetic(120, 2, shift: 3));
        var transport = new InMemoryTransport();
        await using (transport)
        {
            transport.AddClient("north", north);
            transport.AddClient("south", south);
            using FederationResult result = await PlanFederation.RunAsync(plan, transport);
        }

        return (north, south);
    }

    private static bool TrainRow(TrainingPlan plan, string site, TabularDataset table, int row)
    {
        double[] train = SiteData.Prepare(plan, table, site).Train.Column("b").ToArray();
        return train.Contains(table.Column("b")[row]);
    }
}
