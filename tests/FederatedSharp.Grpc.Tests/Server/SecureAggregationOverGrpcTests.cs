using FederatedSharp.Clients;
using FederatedSharp.Grpc.Hosting;
using FederatedSharp.Grpc.Tests.TestUtilities;
using FederatedSharp.Parameters;
using FederatedSharp.Privacy.SecureAggregation;
using FederatedSharp.Transport.InMemory;

namespace FederatedSharp.Grpc.Tests.Server;

/// <summary>The secure aggregation phases travel as ordinary fit calls, so the gRPC transport carries them unchanged.</summary>
public class SecureAggregationOverGrpcTests
{
    [Test]
    public async Task RunRoundAsync_FourClientsOverMutualTls_SameModelAsInMemory()
    {
        (string Id, float Target, long Examples)[] sites = [("site-a", 1f, 10), ("site-b", 2f, 30), ("site-c", -4f, 60), ("site-d", 0.5f, 20)];
        var layout = TensorLayout.Create(new TensorSpec("w", [3, 5]), new TensorSpec("b", [7]));
        using ModelParameters global = ModelParameters.Create(layout);
        var config = new ConfigRecord { { "step", ConfigValue.FromDouble(0.25) } }.Freeze();
        var server = new SecureAggregationServer(new SecureAggregationOptions { MaxExampleCount = 1000 });

        await using var memory = new InMemoryTransport(new InMemoryTransportOptions { MaxConcurrency = 4 });
        foreach ((string id, float target, long examples) in sites)
        {
            memory.AddClient(id, new SecureAggregationClient(id, new TargetClient(target, examples)));
        }

        using SecureAggregationResult expected = await server.RunRoundAsync(memory, memory.GetAvailableClients(), 1, global, config).WithTimeout();

        await using GrpcFederationHost host = await TestFederation.StartMutualTlsAsync();
        using var stop = new CancellationTokenSource();
        Task[] runs = sites
            .Select(s => TestFederation.Runner(TestFederation.MutualTlsClient(host, s.Id)).RunAsync(new SecureAggregationClient(s.Id, new TargetClient(s.Target, s.Examples)), stop.Token))
            .ToArray();
        await host.Transport.WaitForClientsAsync(4).WithTimeout();
        using SecureAggregationResult actual = await server.RunRoundAsync(host.Transport, host.Transport.GetAvailableClients(), 1, global, config).WithTimeout();
        await host.DisposeAsync();
        await Task.WhenAll(runs).WithTimeout();

        Assert.Multiple(() =>
        {
            Assert.That(actual.Contributors, Has.Count.EqualTo(4));
            Assert.That(actual.TotalExamples, Is.EqualTo(120));
            Assert.That(actual.Parameters.Values.ToArray(), Is.EqualTo(expected.Parameters.Values.ToArray()), "fresh keys and masks per run, yet the unmasked sum is exact");
        });
    }
}
