using FederatedSharp.Aggregation;
using FederatedSharp.Server;
using FederatedSharp.Tests.TestUtilities;
using FederatedSharp.Transport.InMemory;

namespace FederatedSharp.Tests.Server;

public class FederatedServerBuilderTests
{
    [Test]
    public void Build_NoTransport_ThrowsNamingIt()
    {
        var ex = Assert.Throws<InvalidOperationException>(() => new FederatedServerBuilder().UseAggregator(new FedAvg()).Build());
        Assert.That(ex!.Message, Does.Contain("transport"));
    }

    [Test]
    public async Task Build_NoInitialParameters_Throws()
    {
        await using var transport = new InMemoryTransport();
        var ex = Assert.Throws<InvalidOperationException>(() => new FederatedServerBuilder().UseTransport(transport).UseAggregator(new FedAvg()).Build());
        Assert.That(ex!.Message, Does.Contain("initial model"));
    }

    [TestCase(nameof(FederatedServerOptions.Rounds))]
    [TestCase(nameof(FederatedServerOptions.FractionFit))]
    [TestCase(nameof(FederatedServerOptions.MinAvailableClients))]
    [TestCase(nameof(FederatedServerOptions.FitTimeout))]
    public async Task Build_InvalidOption_ThrowsNamingIt(string option)
    {
        await using var transport = new InMemoryTransport();
        using var initial = TestModels.Filled(TestModels.SmallLayout, 0);
        var builder = new FederatedServerBuilder().UseTransport(transport).UseAggregator(new FedAvg()).WithInitialParameters(initial)
            .Configure(o =>
            {
                switch (option)
                {
                    case nameof(o.Rounds): o.Rounds = 0; break;
                    case nameof(o.FractionFit): o.FractionFit = 1.5; break;
                    case nameof(o.MinAvailableClients): o.MinAvailableClients = 1; o.MinFitClients = 3; break;
                    case nameof(o.FitTimeout): o.FitTimeout = TimeSpan.Zero; break;
                }
            });
        var ex = Assert.Catch<ArgumentException>(() => builder.Build());
        Assert.That(ex!.Message, Does.Contain(option));
    }

    [Test]
    public async Task Build_OptionsChangedAfterBuild_ServerKeepsItsCopy()
    {
        await using var transport = new InMemoryTransport();
        using var initial = TestModels.Filled(TestModels.SmallLayout, 0);
        FederatedServerOptions? captured = null;
        var builder = new FederatedServerBuilder().UseTransport(transport).UseAggregator(new FedAvg()).WithInitialParameters(initial)
            .Configure(o =>
            {
                o.Rounds = 5;
                captured = o;
            });
        FederatedServer server = builder.Build();
        captured!.Rounds = 50;
        Assert.That(server.Options.Rounds, Is.EqualTo(5));
    }
}
