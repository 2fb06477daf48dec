using FederatedSharp.Aggregation;
using FederatedSharp.Clients;
using FederatedSharp.Server;
using FederatedSharp.Server.Audit;
using FederatedSharp.Server.Checkpoints;
using FederatedSharp.Tests.TestUtilities;
using FederatedSharp.Transport;
using FederatedSharp.Transport.InMemory;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace FederatedSharp.Tests.DependencyInjection;

public class FederatedServiceCollectionExtensionsTests
{
    private static InMemoryTransport TwoClients(ShiftClient a)
    {
        var transport = new InMemoryTransport();
        transport.AddClient("a", a);
        transport.AddClient("b", new ShiftClient(3, 10));
        return transport;
    }

    [Test]
    public async Task AddFederatedServer_BuilderCallback_ResolvesAndRunsWithTheRegisteredTransport()
    {
        var services = new ServiceCollection();
        services.AddLogging(b => b.SetMinimumLevel(LogLevel.Warning));
        var a = new ShiftClient(1, 10);
        services.AddSingleton<ITransport>(TwoClients(a));
        services.Configure<FederatedServerOptions>(o => o.Seed = 3);
        services.AddFederatedServer((server, _) => server
            .UseAggregator(new FedProx(0.05))
            .WithInitialParameters(TestModels.Filled(TestModels.SmallLayout, 0))
            .Configure(o => o.Rounds = 2)
            .WithFitConfig(round => new ConfigRecord { [ConfigKeys.LearningRate] = 0.5 }));
        await using ServiceProvider provider = services.BuildServiceProvider();

        FederatedServer server = provider.GetRequiredService<FederatedServer>();
        using FederationResult result = await server.RunAsync().WithTimeout();

        Assert.Multiple(() =>
        {
            Assert.That(server.Aggregator, Is.InstanceOf<FedProx>());
            Assert.That(server.Options.Rounds, Is.EqualTo(2), "the callback's Configure edits the options from IOptions");
            Assert.That(server.Options.Seed, Is.EqualTo(3UL), "IOptions<FederatedServerOptions> is where the builder starts");
            Assert.That(result.Parameters.Values.ToArray(), Is.All.EqualTo(4f).Within(1e-6));
            Assert.That(a.LastFitConfig!.GetDouble(ConfigKeys.ProximalMu, 0), Is.EqualTo(0.05));
            Assert.That(a.LastFitConfig!.GetDouble(ConfigKeys.LearningRate, 0), Is.EqualTo(0.5));
        });
    }

    [Test]
    public async Task AddFederatedServer_Configuration_BindsEveryKindOfSetting()
    {
        IConfiguration configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Federation:Rounds"] = "7",
            ["Federation:MinAvailableClients"] = "3",
            ["Federation:FractionFit"] = "0.5",
            ["Federation:FitTimeout"] = "00:02:30",
            ["Federation:ProceedAfterResults"] = "2",
            ["Federation:Seed"] = "18446744073709551615",
            ["Federation:Validation:MaxUpdateNorm"] = "12.5",
        }).Build();
        var services = new ServiceCollection();
        services.AddFederatedServer(configuration.GetSection("Federation"), (server, _) => server
            .UseTransport(new InMemoryTransport())
            .UseAggregator(new FedAvg())
            .WithInitialParameters(TestModels.Filled(TestModels.SmallLayout, 0)));
        await using ServiceProvider provider = services.BuildServiceProvider();

        FederatedServerOptions o = provider.GetRequiredService<FederatedServer>().Options;
        Assert.Multiple(() =>
        {
            Assert.That(o.Rounds, Is.EqualTo(7));
            Assert.That(o.MinAvailableClients, Is.EqualTo(3));
            Assert.That(o.FractionFit, Is.EqualTo(0.5));
            Assert.That(o.FitTimeout, Is.EqualTo(TimeSpan.FromSeconds(150)));
            Assert.That(o.ProceedAfterResults, Is.EqualTo(2));
            Assert.That(o.Seed, Is.EqualTo(ulong.MaxValue));
            Assert.That(o.Validation.MaxUpdateNorm, Is.EqualTo(12.5));
        });
    }

    [Test]
    public async Task AddFederatedServer_InvalidConfiguration_HostStartFailsNamingTheSetting()
    {
        IConfiguration configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Federation:FractionFit"] = "1.5",
        }).Build();
        HostApplicationBuilder builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Services.AddFederatedServer(configuration.GetSection("Federation"), (server, _) => server
            .UseTransport(new InMemoryTransport())
            .UseAggregator(new FedAvg())
            .WithInitialParameters(TestModels.Filled(TestModels.SmallLayout, 0)));
        using IHost host = builder.Build();

        var ex = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());
        Assert.That(ex!.Message, Does.Contain("FractionFit"));
    }

    [Test]
    public async Task AddFederatedServer_Features_AreTheBuildersOwn()
    {
        string directory = Directory.CreateTempSubdirectory("fs-di-").FullName;
        try
        {
            var services = new ServiceCollection();
            services.AddSingleton<ITransport>(TwoClients(new ShiftClient(1, 10)));
            services.AddFederatedServer((server, _) => server
                .UseAggregator(new FedAvg())
                .WithInitialParameters(TestModels.Filled(TestModels.SmallLayout, 0))
                .UseCheckpointStore(new FileCheckpointStore(Path.Combine(directory, "checkpoints")))
                .UseAuditLog(new FileAuditLog(Path.Combine(directory, "audit.log"))));
            await using ServiceProvider provider = services.BuildServiceProvider();

            FederatedServer server = provider.GetRequiredService<FederatedServer>();
            using FederationResult result = await server.RunAsync().WithTimeout();

            Assert.Multiple(() =>
            {
                Assert.That(Directory.EnumerateFiles(Path.Combine(directory, "checkpoints")), Is.Not.Empty);
                Assert.That(File.ReadAllText(Path.Combine(directory, "audit.log")), Does.Contain("round"));
            });
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Test]
    public async Task AddFederatedServer_RegisteredTimeProvider_DrivesTheDeadlines()
    {
        var clock = new FakeTimeProvider();
        var hanging = new HangingClient(ignoreCancellation: true);
        var transport = TwoClients(new ShiftClient(1, 10));
        transport.AddClient("slow", hanging);
        var services = new ServiceCollection();
        services.AddSingleton<TimeProvider>(clock);
        services.AddSingleton<ITransport>(transport);
        services.AddFederatedServer((server, _) => server
            .UseAggregator(new FedAvg())
            .WithInitialParameters(TestModels.Filled(TestModels.SmallLayout, 0))
            .Configure(o =>
            {
                o.FitTimeout = TimeSpan.FromMinutes(1);
                o.FractionEvaluate = 0;
            }));
        await using ServiceProvider provider = services.BuildServiceProvider();

        Task<FederationResult> run = provider.GetRequiredService<FederatedServer>().RunAsync();
        await hanging.Started.WithTimeout();
        clock.Advance(TimeSpan.FromMinutes(1) + TimeSpan.FromTicks(1));
        using FederationResult result = await run.WithTimeout();

        Assert.That(result.History.Rounds[0].Failures.Single().Kind, Is.EqualTo(ClientFailureKind.Timeout), "only the registered fake clock can have ended the deadline");
    }

    [Test]
    public async Task AddFederatedServer_CallbackSetsNoInitialParameters_ResolveThrowsClearly()
    {
        var services = new ServiceCollection();
        services.AddFederatedServer((server, _) => server.UseTransport(new InMemoryTransport()).UseAggregator(new FedAvg()));
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
