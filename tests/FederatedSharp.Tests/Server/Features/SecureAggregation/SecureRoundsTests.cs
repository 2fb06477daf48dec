using FederatedSharp.Aggregation;
using FederatedSharp.Clients;
using FederatedSharp.Parameters;
using FederatedSharp.Privacy.SecureAggregation;
using FederatedSharp.Server;
using FederatedSharp.Tests.TestUtilities;
using FederatedSharp.Transport.InMemory;

namespace FederatedSharp.Tests.Server.Features.SecureAggregation;

/// <summary>Secure rounds on the engine: the masked sum becomes a mean, then the strategy's server step runs on it.</summary>
public class SecureRoundsTests
{
    private static async Task<FederationResult> RunAsync(IAggregator strategy, bool secure)
    {
        await using var transport = new InMemoryTransport(new InMemoryTransportOptions { MaxConcurrency = 5 });
        for (int i = 0; i < 5; i++)
        {
            IClient client = new ShiftClient(0.01f * (i + 1), 10 * (i + 1));
            transport.AddClient($"site-{i}", secure ? new SecureAggregationClient($"site-{i}", client) : client);
        }

        using ModelParameters initial = TestModels.Filled(TestModels.SmallLayout, 0);
        FederatedServerBuilder builder = new FederatedServerBuilder().UseTransport(transport).UseAggregator(strategy).WithInitialParameters(initial)
            .Configure(o => { o.Rounds = 4; o.MinAvailableClients = 5; o.MinFitClients = 3; o.MinEvaluateClients = 3; o.Seed = 4; });
        if (secure)
        {
            builder.UseSecureAggregation(new SecureAggregationOptions { ClipNorm = 1.0, MaxExampleCount = 1000 });
        }

        return await builder.Build().RunAsync().WithTimeout();
    }

    [TestCase("fedadam")]
    [TestCase("fedyogi")]
    [TestCase("fedavgm")]
    public async Task RunAsync_ServerOptimizerOverSecureAggregation_SameModelAsWithoutIt(string name)
    {
        IAggregator Create() => name == "fedavgm" ? new FedAvgM(serverLearningRate: 1.0, serverMomentum: 0.9) : Aggregators.Create(name);
        using FederationResult plain = await RunAsync(Create(), secure: false);
        using FederationResult secure = await RunAsync(Create(), secure: true);
        using FederationResult fedAvg = await RunAsync(new FedAvg(), secure: false);

        Assert.Multiple(() =>
        {
            Assert.That(secure.Parameters.Values.ToArray(), Is.EqualTo(plain.Parameters.Values.ToArray()).Within(1e-5));
            Assert.That(secure.Parameters.Values.ToArray(), Is.Not.EqualTo(fedAvg.Parameters.Values.ToArray()).Within(1e-4), "the server step is not FedAvg's");
            Assert.That(secure.History.Rounds.All(r => r.Succeeded && r.AggregatedUpdates == 5), Is.True);
        });
    }

    [TestCase("scaffold")]
    [TestCase("fedmedian")]
    [TestCase("qfedavg")]
    public void Build_StrategyNeedingIndividualUpdates_RefusedNamingIt(string name)
    {
        IAggregator strategy = Aggregators.Create(name);
        var builder = new FederatedServerBuilder().UseTransport(new InMemoryTransport()).UseAggregator(strategy).UseSecureAggregation()
            .WithInitialParameters(TestModels.Filled(TestModels.SmallLayout, 0));

        var ex = Assert.Throws<ArgumentException>(() => builder.Build());
        Assert.That(ex!.Message, Does.Contain(strategy.Name + " needs every individual update"));
    }

    [Test]
    public void Build_SecureAggregationWithFedBuff_RefusedNamingBoth()
    {
        var builder = new FederatedServerBuilder().UseTransport(new InMemoryTransport()).UseSecureAggregation().UseBufferedAsynchronousAggregation()
            .WithInitialParameters(TestModels.Filled(TestModels.SmallLayout, 0));

        var ex = Assert.Throws<InvalidOperationException>(() => builder.Build());
        Assert.That(ex!.Message, Does.Contain("secure aggregation").And.Contain("FedBuff").And.Contain("only one"));
    }
}
