using System.Text.Json;
using FederatedSharp.Analytics;
using FederatedSharp.Clients;
using FederatedSharp.Grpc.Hosting;
using FederatedSharp.Grpc.Tests.TestUtilities;
using FederatedSharp.Server;

namespace FederatedSharp.Grpc.Tests.Server;

/// <summary>Federated statistics over gRPC with mutual TLS: what crosses the wire is what the site's policy released.</summary>
public class GrpcAnalyticsTests
{
    // 12 values in [0, 1), 3 in [1, 2), 15 in [2, 3].
    private static TabularDataset Table() => new(new Dictionary<string, double[]>
    {
        ["x"] = Enumerable.Repeat(0.5, 12).Concat(Enumerable.Repeat(1.5, 3)).Concat(Enumerable.Repeat(2.5, 15)).ToArray(),
    });

    [Test]
    public async Task ComputeAsync_OverMutualTls_SuppressedBinNeverOnTheWireAndBudgetRefusalReasonArrives()
    {
        await using GrpcFederationHost host = await TestFederation.StartMutualTlsAsync();
        using var stop = new CancellationTokenSource();
        var open = new AnalyticsSite(Table());
        var noisy = new AnalyticsSite(Table(), new DisclosurePolicy
        {
            Noise = NoiseMechanism.Laplace, EpsilonPerQuery = 1, EpsilonBudget = 1, NoiseSeed = 1, Bounds = { ["x"] = new ValueBounds(0, 3) },
        });
        Task a = TestFederation.Runner(TestFederation.MutualTlsClient(host, "open")).RunAsync(new AnalyticsClient(open), stop.Token);
        Task b = TestFederation.Runner(TestFederation.MutualTlsClient(host, "noisy")).RunAsync(new AnalyticsClient(noisy), stop.Token);
        await host.Transport.WaitForClientsAsync(2).WithTimeout();
        FederatedServer server = new FederatedServerBuilder().UseTransport(host.Transport).BuildForQueries();
        var request = new StatisticsRequest { Features = new[] { "x" }, HistogramEdges = new Dictionary<string, double[]> { ["x"] = new double[] { 0, 1, 2, 3 } } };

        StatisticsReport first = await new FederatedStatistics(server).ComputeAsync(request).WithTimeout();
        StatisticsReport second = await new FederatedStatistics(server).ComputeAsync(request).WithTimeout();
        using QueryRoundResult raw = await server.QueryAsync(AnalyticsQueries.Statistics, new ConfigRecord
        {
            [AnalyticsQueries.PayloadKey] = """{"features":["x"],"histograms":{"x":[0,1,2,3]}}""",
        }, new[] { "open" }).WithTimeout();

        string wire = raw.Results.Single().Result.Values[AnalyticsQueries.PayloadKey].AsString();
        using JsonDocument reply = JsonDocument.Parse(wire);
        JsonElement counts = reply.RootElement.GetProperty("features")[0].GetProperty("histogram").GetProperty("counts");
        Assert.Multiple(() =>
        {
            Assert.That(first.Failures, Is.Empty);
            Assert.That(first.Sites["open"].Features["x"].Histogram!.Counts, Is.EqualTo(new double?[] { null, null, 15 }));
            Assert.That(counts[1].ValueKind, Is.EqualTo(JsonValueKind.Null), "the 3-record bin as received over gRPC");
            Assert.That(second.Failures.Single().ClientId, Is.EqualTo("noisy"));
            Assert.That(second.Failures.Single().Reason, Does.Contain("privacy budget"), "the site's reason crosses the wire");
            Assert.That(second.Sites.Keys, Is.EqualTo(new[] { "open" }), "the federation went on without the refusing site");
            Assert.That(noisy.Events.Last().Action, Is.EqualTo(DisclosureAction.Refused));
        });
        await host.DisposeAsync();
        await Task.WhenAll(a, b).WithTimeout();
    }
}
