using FederatedSharp.Aggregation;
using FederatedSharp.Clients;
using FederatedSharp.Parameters;
using FederatedSharp.Server;
using FederatedSharp.Tests.TestUtilities;
using FederatedSharp.Transport.InMemory;

namespace FederatedSharp.Tests.Server.CrossSite;

/// <summary>CrossSiteEvaluation, LocalModelClient and FederatedServer.EvaluateAsync.</summary>
public class CrossSiteEvaluationTests
{
    /// <summary>A site whose local training moves every parameter to its own value and whose loss is the mean distance to it.</summary>
    private sealed class ValueSite(float value, long examples) : IClient
    {
        public Task<ConfigRecord> GetPropertiesAsync(CancellationToken cancellationToken = default) => Task.FromResult(ConfigRecord.Empty);

        public Task<FitResult> FitAsync(FitInstructions instructions, CancellationToken cancellationToken = default) =>
            Task.FromResult(new FitResult(TestModels.Filled(instructions.Parameters.Layout, value), examples));

        public Task<EvaluateResult> EvaluateAsync(EvaluateInstructions instructions, CancellationToken cancellationToken = default)
        {
            double loss = instructions.Parameters.Values.ToArray().Average(p => Math.Abs(p - value));
            return Task.FromResult(new EvaluateResult(loss, examples, new ConfigRecord { ["closeness"] = 1 / (1 + loss) }));
        }
    }

    [Test]
    public async Task EvaluateAsync_AfterTraining_EveryModelOnEverySiteInTheHistory()
    {
        await using var transport = new InMemoryTransport();
        float[] values = { 1, 2, 4 };
        var sites = values.Select((v, i) => new LocalModelClient(new ValueSite(v, 10 * (i + 1)))).ToArray();
        for (int i = 0; i < sites.Length; i++)
        {
            transport.AddClient($"s{i}", sites[i]);
        }

        using ModelParameters initial = TestModels.Filled(TestModels.SmallLayout, 0);
        FederatedServer server = new FederatedServerBuilder().UseTransport(transport).UseAggregator(new FedAvg()).WithInitialParameters(initial)
            .Configure(o => o.Rounds = 2).Build();
        using FederationResult result = await server.RunAsync().WithTimeout();

        CrossSiteMatrix matrix = await new CrossSiteEvaluation(server).EvaluateAsync(result).WithTimeout();

        double global = (10 * 1 + 20 * 2 + 30 * 4) / 60.0; // FedAvg's example-weighted mean of the sites' values
        double[,] loss = matrix.Values("loss");
        Assert.Multiple(() =>
        {
            Assert.That(result.History.CrossSite, Is.SameAs(matrix));
            Assert.That(matrix.Models, Is.EqualTo(new[] { CrossSiteMatrix.GlobalModel, "s0", "s1", "s2" }));
            Assert.That(matrix.Sites, Is.EqualTo(new[] { "s0", "s1", "s2" }));
            Assert.That(matrix.Failures, Is.Empty);
            for (int s = 0; s < 3; s++)
            {
                Assert.That(loss[0, s], Is.EqualTo(Math.Abs(global - values[s])).Within(1e-5), $"global on s{s}");
                for (int m = 0; m < 3; m++)
                {
                    Assert.That(loss[m + 1, s], Is.EqualTo(Math.Abs(values[m] - values[s])).Within(1e-6), $"s{m}'s local model on s{s}");
                }
            }

            Assert.That(matrix.Values("closeness")[1, 0], Is.EqualTo(1.0), "a local model is best on its own site");
            Assert.That(matrix.Values("missing")[0, 0], Is.NaN);
        });
    }

    [Test]
    public async Task EvaluateAsync_SiteWithoutALocalModel_RowMissingAndFailureNamed()
    {
        await using var transport = new InMemoryTransport();
        transport.AddClient("trained", new LocalModelClient(new ValueSite(1, 10)));
        transport.AddClient("plain", new ValueSite(3, 10));
        using ModelParameters initial = TestModels.Filled(TestModels.SmallLayout, 0);
        FederatedServer server = new FederatedServerBuilder().UseTransport(transport).UseAggregator(new FedAvg()).WithInitialParameters(initial)
            .Configure(o => o.Rounds = 1).Build();
        using FederationResult result = await server.RunAsync().WithTimeout();

        CrossSiteMatrix matrix = await new CrossSiteEvaluation(server).EvaluateAsync(result).WithTimeout();

        Assert.Multiple(() =>
        {
            Assert.That(matrix.Models, Is.EqualTo(new[] { CrossSiteMatrix.GlobalModel, "trained" }));
            Assert.That(matrix.Sites, Is.EquivalentTo(new[] { "trained", "plain" }), "every site still evaluates");
            Assert.That(matrix.Failures.Single().ClientId, Is.EqualTo("plain"));
            Assert.That(matrix.Failures.Single().Kind, Is.EqualTo(ClientFailureKind.Unsupported));
            Assert.That(matrix["trained", "plain"]!.Loss, Is.EqualTo(2).Within(1e-6));
        });
    }

    [Test]
    public async Task QueryAsync_LocalModelClientBeforeAnyFit_FailsWithAClearReason()
    {
        using var client = new LocalModelClient(new ValueSite(1, 10));

        Assert.That(client.HasLocalModel, Is.False);
        Assert.That(() => client.QueryAsync(new QueryInstructions(CrossSiteQueries.LocalModel, ConfigRecord.Empty)),
            Throws.InvalidOperationException.With.Message.Contains("not trained a local model"));
    }
}
