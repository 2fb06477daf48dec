using FederatedSharp.Clients;
using FederatedSharp.Parameters;
using FederatedSharp.Privacy.SecureAggregation;
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
}
