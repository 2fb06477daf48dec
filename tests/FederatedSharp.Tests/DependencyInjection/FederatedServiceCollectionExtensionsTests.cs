using FederatedSharp.Aggregation;
using FederatedSharp.Clients;
using FederatedSharp.Parameters;
using FederatedSharp.Server;
using FederatedSharp.Tests.TestUtilities;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace FederatedSharp.Tests.DependencyInjection;

public class FederatedServiceCollectionExtensionsTests
{
    [Test]
    public async Task AddFederatedServer_InMemoryClientsAndFedProx_ResolvesAndRuns()
    {
        var services = new ServiceCollection();
        services.AddLogging(b => b.SetMinimumLevel(LogLevel.Warning));
        var a = new ShiftClient(1, 10);
        services.AddFederatedServer(o =>
            {
                o.Rounds = 2;
                o.Seed = 3;
            })
            .UseFedProx(0.05)
            .UseInMemoryTransport((_, transport) =>
            {
                transport.AddClient("a", a);
                transport.AddClient("b", new ShiftClient(3, 10));
            })
            .WithInitialParameters(_ => TestModels.Filled(TestModels.SmallLayout, 0))
            .WithFitConfig(round => new ConfigRecord { [ConfigKeys.LearningRate] = 0.5 });
        await using ServiceProvider provider = services.BuildServiceProvider();

        FederatedServer server = provider.GetRequiredService<FederatedServer>();
        using FederationResult result = await server.RunAsync().WithTimeout();

        Assert.Multiple(() =>
        {
            Assert.That(server.Aggregator, Is.InstanceOf<FedProx>());
            Assert.That(server.Options.Rounds, Is.EqualTo(2));
            Assert.That(result.Parameters.Values.ToArray(), Is.All.EqualTo(4f).Within(1e-6));
            Assert.That(a.LastFitConfig!.GetDouble(ConfigKeys.ProximalMu, 0), Is.EqualTo(0.05));
            Assert.That(a.LastFitConfig!.GetDouble(ConfigKeys.LearningRate, 0), Is.EqualTo(0.5));
        });
    }

    [Test]
    public async Task AddFederatedServer_NoAggregatorChosen_DefaultsToFedAvg()
    {
        var services = new ServiceCollection();
        services.AddFederatedServer()
            .UseInMemoryTransport((_, t) => t.AddClient("a", new ShiftClient(1, 1)))
            .WithInitialParameters(_ => TestModels.Filled(TestModels.SmallLayout, 0));
        await using ServiceProvider provider = services.BuildServiceProvider();
        Assert.That(provider.GetRequiredService<FederatedServer>().Aggregator, Is.InstanceOf<FedAvg>());
    }

    [Test]
    public async Task AddFederatedServer_NoInitialParameters_ResolveThrowsClearly()
    {
        var services = new ServiceCollection();
        services.AddFederatedServer().UseInMemoryTransport((_, _) => { });
        await using ServiceProvider provider = services.BuildServiceProvider();
        var ex = Assert.Throws<InvalidOperationException>(() => provider.GetRequiredService<FederatedServer>());
        Assert.That(ex!.Message, Does.Contain("WithInitialParameters"));
    }

    [Test]
    public async Task AddFederatedClient_Type_ResolvesAsIClientSingleton()
    {
        var services = new ServiceCollection();
        services.AddFederatedClient<ThrowingClient>();
        services.AddFederatedClient(_ => new ShiftClient(1, 1));
        await using ServiceProvider provider = services.BuildServiceProvider();
        Assert.Multiple(() =>
        {
            Assert.That(provider.GetRequiredService<IClient>(), Is.InstanceOf<ThrowingClient>(), "TryAdd keeps the first registration");
            IClient first = provider.GetRequiredService<IClient>();
            Assert.That(provider.GetRequiredService<IClient>(), Is.SameAs(first));
        });
    }
}
