using FederatedSharp.Clients;
using FederatedSharp.Parameters;
using FederatedSharp.Plans.Tests.TestUtilities;

namespace FederatedSharp.Plans.Tests.Running;

public sealed class PlanClientTests
{
    [Test]
    public async Task FitAsync_RoundWithDropout_DependsOnlyOnPlanSiteRoundAndParameters()
    {
        // A site that restarts (or skipped a round) must train round 2 exactly as one that trained every round.
        TrainingPlan plan = TrainingPlan.Parse(PlanFiles.Minimal(j => j.Replace(
            "{ \"type\": \"linear\", \"in\": 2, \"out\": 1 }",
            "{ \"type\": \"linear\", \"in\": 2, \"out\": 16 }, { \"type\": \"dropout\", \"p\": 0.5 }, { \"type\": \"linear\", \"in\": 16, \"out\": 1 }",
            StringComparison.Ordinal)));
        using var veteran = new PlanClient(plan, "north", PlanFiles.Synthetic(64, 1));
        using var restarted = new PlanClient(plan, "north", PlanFiles.Synthetic(64, 1));
        using ModelParameters initial = PlanCompiler.CreateInitialParameters(plan);
        using FitResult first = await veteran.FitAsync(new FitInstructions(1, initial, ConfigRecord.Empty));

        using FitResult a = await veteran.FitAsync(new FitInstructions(2, initial, ConfigRecord.Empty));
        using FitResult b = await restarted.FitAsync(new FitInstructions(2, initial, ConfigRecord.Empty));

        Assert.That(b.Parameters.Values.ToArray(), Is.EqualTo(a.Parameters.Values.ToArray()));
        Assert.That(first.Parameters.Values.ToArray(), Is.Not.EqualTo(a.Parameters.Values.ToArray()));
    }

    [Test]
    public void Constructor_TableThatDoesNotFit_ThrowsBeforeAnyTask()
    {
        TrainingPlan plan = TrainingPlan.Parse(PlanFiles.Minimal());
        var table = new FederatedSharp.Analytics.TabularDataset(new Dictionary<string, double[]> { ["a"] = [1], ["y"] = [1] });

        var e = Assert.Throws<PlanDataException>(() => new PlanClient(plan, "north", table));

        Assert.That(e!.Message, Does.StartWith("The data set lacks the column 'b'"));
    }
}
