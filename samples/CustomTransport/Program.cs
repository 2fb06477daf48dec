using CustomTransport;
using FederatedSharp.Clients;
using FederatedSharp.Parameters;
using FederatedSharp.Server;

// A federation whose transport is a shared folder, with a custom strategy, a custom (JSON) serializer and a custom
// feature (a per-round CSV log with update norms): the extension points an integrator implements. Three "sites" run in
// this process, each as a FolderClientRunner.
// Usage: dotnet run --project samples/CustomTransport -c Release -- [--rounds 10]
int rounds = args.Length == 2 && args[0] == "--rounds" ? int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 10;
string root = Path.Combine(Path.GetTempPath(), "federatedsharp-folder-" + Guid.NewGuid().ToString("N"));
var serializer = new JsonModelSerializer();
using var stop = new CancellationTokenSource();
Task[] sites = Enumerable.Range(0, 3)
    .Select(i => Task.Run(() => new FolderClientRunner(root, $"site-{i}", new LinearRegressionClient(i, 50 + (25 * i)), serializer).RunAsync(stop.Token)))
    .ToArray();
try
{
    await using var transport = new FolderTransport(root, serializer);
    using ModelParameters initial = ModelParameters.Create(LinearRegressionClient.Layout);
    FederatedServer server = new FederatedServerBuilder()
        .UseTransport(transport)
        .UseAggregator(new ServerStepAggregator(step: 0.8))
        .WithInitialParameters(initial)
        .Configure(o =>
        {
            o.Rounds = rounds;
            o.MinAvailableClients = 3;
            o.FitTimeout = TimeSpan.FromSeconds(30);
        })
        .WithFitConfig(_ => new ConfigRecord { [ConfigKeys.LearningRate] = 0.05, [ConfigKeys.LocalSteps] = 50 })
        .UseFeature(new RoundLogFeature("rounds.csv"))
        .Build();
    Console.WriteLine($"Sites exchange JSON files under {root}");
    using FederationResult result = await server.RunAsync(new Progress(rounds));
    float[] w = result.Parameters.Values.ToArray();
    Console.WriteLine($"Learned y = {w[0]:F3} x0 + {w[1]:F3} x1 + {w[2]:F3} (truth: 2 x0 - 3 x1 + 1)");
    Console.WriteLine("Per-client round log (with update norms) written to rounds.csv");
}
finally
{
    await stop.CancelAsync();
    try
    {
        await Task.WhenAll(sites);
    }
    catch (OperationCanceledException)
    {
    }

    Directory.Delete(root, recursive: true);
}

internal sealed class Progress(int rounds) : IProgress<RoundReport>
{
    public void Report(RoundReport value) =>
        Console.WriteLine($"round {value.Round,2}/{rounds}: {value.Record.AggregatedUpdates} updates, distributed loss {value.Record.DistributedLoss:F5}, "
            + $"mean update norm {value.Record.AggregatorMetrics.GetDouble("update_norm_mean", double.NaN):F4}");
}
