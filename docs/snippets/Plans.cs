using FederatedSharp.Analytics;
using FederatedSharp.Plans;
using FederatedSharp.Server;

namespace Snippets;

public static class Plans
{
    public static async Task<double> Simulate(string planPath, IReadOnlyDictionary<string, string> siteCsvFiles)
    {
        // snippet: plan-simulation
        TrainingPlan plan = TrainingPlan.Load(planPath);        // PlanValidationException lists every error with its JSON path
        Console.WriteLine(PlanSummary.Describe(plan));          // what a site's approver reads, hash first
        var sites = siteCsvFiles.ToDictionary(
            s => s.Key,                                          // the site's name seeds its batch order and split
            s => TabularDataset.LoadCsv(s.Value, CsvSchema.FromHeader(File.ReadLines(s.Value).First().Split(','))));
        using FederationResult result = await PlanSimulation.RunAsync(plan, sites);   // PlanDataException names a site that does not fit
        double accuracy = result.History.GetDistributedMetric("binary_accuracy")[^1].Value;
        // end snippet
        return accuracy;
    }

    public static PlanClient Site(TrainingPlan plan, TabularDataset table)
    {
        // snippet: plan-client
        // At a site: the IClient compiled from an approved plan (the same one a simulation uses).
        var client = new PlanClient(plan, site: "cleveland", table, policy: new DisclosurePolicy { MinimumCount = 10 });
        // client.TrainCount / TestCount: the rows after the plan's split and missing-value rule
        // end snippet
        return client;
    }
}
