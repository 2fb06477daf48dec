using FederatedSharp;
using FederatedSharp.Aggregation;
using FederatedSharp.Parameters;
using FederatedSharp.Simulation;
using FederatedSharp.TorchSharp.Training;
using TorchSharp;

namespace Snippets;

public static class QuickStart
{
    public static async Task<double> RunAsync(ModelParameters initialModel)
    {
        // snippet: quick-start
        using var result = await FederatedSimulation.RunAsync(
            clientCount: 10,
            clientFactory: i => new TorchTrainerClient(new TorchTrainerOptions
            {
                Module = torch.nn.Sequential(torch.nn.Linear(13, 1), torch.nn.Sigmoid()),
                Train = MyData.Partition(i), Loss = torch.nn.BCELoss().forward, LearningRate = 0.01, LocalSteps = 100,
                Metrics = { ["accuracy"] = TorchMetrics.BinaryAccuracy() },
            }),
            configureServer: server => server
                .UseAggregator(new FedAvg())                    // or new FedProx(proximalMu: 0.01), Aggregators.Create("fedadam")
                .WithInitialParameters(initialModel)
                .Configure(o => { o.Rounds = 20; o.FractionFit = 0.5; o.Seed = 42; }));
        Console.WriteLine(result.History.GetDistributedMetric("accuracy").Last());
        // end snippet
        return result.History.GetDistributedMetric("accuracy").Last().Value;
    }

    public static async Task PackageReadmeAsync(Func<int, FederatedSharp.Clients.IClient> createClient, ModelParameters initialModel)
    {
        // snippet: package-readme
        using var result = await FederatedSimulation.RunAsync(
            clientCount: 10,
            clientFactory: index => createClient(index),          // your IClient
            configureServer: server => server
                .UseAggregator(new FedAvg())
                .WithInitialParameters(initialModel)
                .Configure(o => { o.Rounds = 20; o.Seed = 42; }));
        // end snippet
    }
}

/// <summary>Stands for the user's data: a site's training set.</summary>
public static class MyData
{
    public static TorchDataSet Partition(int index)
    {
        var random = new DeterministicRandom((ulong)index);
        float[] x = Enumerable.Range(0, 13 * 40).Select(_ => (float)random.NextDouble()).ToArray();
        float[] y = Enumerable.Range(0, 40).Select(i => x[i * 13] > 0.5f ? 1f : 0f).ToArray();
        return TorchDataSet.FromArrays(x, 13, y);
    }
}
