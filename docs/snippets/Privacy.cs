using FederatedSharp.Aggregation;
using FederatedSharp.Clients;
using FederatedSharp.Parameters;
using FederatedSharp.Privacy;
using FederatedSharp.Privacy.SecureAggregation;
using FederatedSharp.Server;
using FederatedSharp.Transport.InMemory;

namespace Snippets;

public static class Privacy
{
    public static async Task<ModelParameters> SecureRoundAsync(IClient hospitalA, IClient hospitalB, IClient hospitalC, ModelParameters global)
    {
        // snippet: secure-aggregation
        // Clients: wrap each site's IClient (over gRPC: GrpcClientRunner.RunAsync(new SecureAggregationClient(id, client))).
        await using var transport = new InMemoryTransport();
        transport.AddClient("a", new SecureAggregationClient("a", hospitalA));
        transport.AddClient("b", new SecureAggregationClient("b", hospitalB));
        transport.AddClient("c", new SecureAggregationClient("c", hospitalC));

        // Server: one secure round; survives n - t drop-outs (default t = floor(2n/3) + 1).
        var secure = new SecureAggregationServer(new SecureAggregationOptions { ClipNorm = 5.0, NoiseMultiplier = 0 });
        using SecureAggregationResult result = await secure.RunRoundAsync(transport, transport.GetAvailableClients(), round: 1, global);
        Console.WriteLine($"{result.Contributors.Count} contributors, {result.TotalExamples} examples, {result.Dropped.Count} dropped");
        // end snippet
        return result.Parameters.Clone();
    }

    public static FederatedServer CentralDpWithAnyStrategy(InMemoryTransport transport, ModelParameters initial)
    {
        // snippet: central-dp
        FederatedServer server = new FederatedServerBuilder()
            .UseTransport(transport)
            .UseAggregator(new FedAdam())                      // any strategy: FedAvgM, Krum, FedMedian...
            .WithInitialParameters(initial)
            .UseCentralDp(new DpFedAvgOptions { NoiseMultiplier = 1.1, ClipNorm = 0.5, TotalClients = 100, Delta = 1e-5, Seed = 42 })
            .Configure(o => { o.Rounds = 50; o.FractionFit = 0.1; })
            .Build();
        // each round: history.Rounds[i].AggregatorMetrics["dp_epsilon"]
        // end snippet
        return server;
    }
}
