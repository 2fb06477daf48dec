using FederatedSharp.Aggregation;
using FederatedSharp.Clients;
using FederatedSharp.Parameters;
using FederatedSharp.Server;
using FederatedSharp.Server.Checkpoints;
using FederatedSharp.TorchSharp.Training;
using FederatedSharp.Transport.InMemory;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using TorchSharp;
using static TorchSharp.torch;

namespace Snippets;

public static class GettingStarted
{
    public static TorchTrainerClient TorchClient(float[] trainFeatures, float[] trainLabels, float[] testFeatures, float[] testLabels)
    {
        // snippet: torch-client
        var client = new TorchTrainerClient(new TorchTrainerOptions
        {
            Module = nn.Sequential(("fc", nn.Linear(13, 1)), ("sigmoid", nn.Sigmoid())),
            Train = TorchDataSet.FromArrays(trainFeatures, 13, trainLabels),
            Test = TorchDataSet.FromArrays(testFeatures, 13, testLabels),
            Loss = nn.BCELoss().forward,
            LearningRate = 0.001, BatchSize = 4, LocalSteps = 100,
            Metrics = { ["accuracy"] = TorchMetrics.BinaryAccuracy() },
        });
        // end snippet
        return client;
    }

    public static async Task<History> InMemoryAsync(IClient clevelandClient, IClient hungaryClient, ModelParameters initial, ILoggerFactory loggerFactory,
        IProgress<RoundReport> progress, CancellationToken cancellationToken)
    {
        // snippet: in-memory-server
        await using var transport = new InMemoryTransport();
        transport.AddClient("cleveland", clevelandClient);
        transport.AddClient("hungary", hungaryClient);

        FederatedServer server = new FederatedServerBuilder()
            .UseTransport(transport)
            .UseAggregator(new FedAvg())
            .WithInitialParameters(initial)                 // e.g. new TorchModelAdapter(model).ToParameters()
            .Configure(o => { o.Rounds = 15; o.MinAvailableClients = 2; o.MinFitClients = 2; o.Seed = 42; })
            .WithFitConfig(round => new ConfigRecord { [ConfigKeys.LocalSteps] = 100, [ConfigKeys.LearningRate] = 0.001 })
            .UseLoggerFactory(loggerFactory)
            .Build();

        using FederationResult result = await server.RunAsync(progress, cancellationToken);
        foreach (RoundRecord round in result.History.Rounds)
            Console.WriteLine($"{round.Round}: loss {round.DistributedLoss}, failures {round.Failures.Count}");
        // end snippet
        return result.History;
    }

    public static FederatedServer DependencyInjection(IServiceCollection services, Func<ModelParameters> createInitialModel)
    {
        // snippet: dependency-injection
        services.Configure<FederatedServerOptions>(o => { o.Rounds = 15; o.Seed = 42; });
        services.AddFederatedServer((server, sp) =>
        {
            var transport = new InMemoryTransport();
            transport.AddClient("a", sp.GetRequiredService<IClient>());
            using ModelParameters initial = createInitialModel();
            server.UseTransport(transport)
                  .UseAggregator(new FedProx(proximalMu: 0.01))
                  .WithInitialParameters(initial)                      // copied by the builder
                  .UseCheckpointStore(new FileCheckpointStore("checkpoints"));   // every builder feature is here
        });
        // end snippet
        using ServiceProvider provider = services.BuildServiceProvider();
        return provider.GetRequiredService<FederatedServer>();
    }

    public static FederatedServer DifferentialPrivacy(InMemoryTransport transport, ModelParameters initial)
    {
        // snippet: dp-fedavg
        var dp = new FederatedSharp.Privacy.DpFedAvg(new FederatedSharp.Privacy.DpFedAvgOptions
        {
            NoiseMultiplier = 1.1, ClipNorm = 0.5, TotalClients = 100, Delta = 1e-5, Seed = 42,
        });
        FederatedServer server = new FederatedServerBuilder()
            .UseTransport(transport)
            .UseAggregator(dp)
            .WithInitialParameters(initial)
            .Configure(o => { o.Rounds = 50; o.FractionFit = 0.1; })
            .Build();
        // after the run: history.Rounds[i].AggregatorMetrics["dp_epsilon"], or dp.Epsilon(1e-5)
        // end snippet
        return server;
    }

    public static FederatedServer Checkpoints(InMemoryTransport transport, ModelParameters initial)
    {
        // snippet: checkpoints
        var server = new FederatedServerBuilder()
            .UseTransport(transport)
            .UseAggregator(new FedAdam())
            .WithInitialParameters(initial)
            .Configure(o => { o.Rounds = 100; o.QuarantineAfterFailures = 3; o.ProceedAfterFraction = 0.9; })
            .UseCheckpointStore(new FileCheckpointStore("/var/lib/federation/checkpoints", keep: 3))
            .Build();
        // end snippet
        return server;
    }
}

// snippet: my-client
public sealed class MyClient : IClient
{
    public Task<ConfigRecord> GetPropertiesAsync(CancellationToken ct = default) =>
        Task.FromResult(new ConfigRecord { ["examples"] = 1200L });

    public async Task<FitResult> FitAsync(FitInstructions instructions, CancellationToken ct = default)
    {
        ModelParameters local = instructions.Parameters.Clone();     // never modify the instructions' parameters
        double lr = instructions.Config.GetDouble(ConfigKeys.LearningRate, 0.01);
        await TrainAsync(local.Values.ToArray(), lr, ct);            // your training
        return new FitResult(local, exampleCount: 1200, new ConfigRecord { [ConfigKeys.TrainLoss] = 0.42 });
    }

    public Task<EvaluateResult> EvaluateAsync(EvaluateInstructions instructions, CancellationToken ct = default) =>
        Task.FromResult(new EvaluateResult(loss: 0.3, exampleCount: 300, new ConfigRecord { ["accuracy"] = 0.91 }));

    private static Task TrainAsync(float[] values, double lr, CancellationToken ct) => Task.CompletedTask; // stands for your training
}
// end snippet
