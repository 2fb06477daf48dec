using FederatedSharp.Aggregation;
using FederatedSharp.Clients;
using FederatedSharp.Parameters;
using FederatedSharp.Server;
using FederatedSharp.TorchSharp;
using FederatedSharp.TorchSharp.Training;
using FederatedSharp.Transport.InMemory;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using TorchSharp;
using static TorchSharp.torch;

namespace HeartDisease;

/// <summary>Settings of one Fed-Heart-Disease run; the defaults are FLamby's protocol for the chosen strategy.</summary>
public sealed class HeartDiseaseOptions
{
    public int Rounds { get; set; } = 15;

    /// <summary>Any name of <see cref="Aggregators.Names"/>.</summary>
    public string Strategy { get; set; } = "fedavg";

    /// <summary>FedProx's mu (shorthand for the hyperparameter <c>proximal_mu</c>); null for FLamby's 0.01.</summary>
    public double? ProximalMu { get; set; }

    /// <summary>Strategy hyperparameters by Flower's names; they override FLamby's per-strategy values.</summary>
    public ConfigRecord Hyperparameters { get; } = new();

    public ulong Seed { get; set; } = 42;

    public int LocalSteps { get; set; } = 100;

    /// <summary>Client SGD learning rate; null for FLamby's value for the strategy.</summary>
    public double? LearningRate { get; set; }

    public int BatchSize { get; set; } = 4;

    /// <summary>Buffered asynchronous aggregation (FedBuff) with this buffer size K instead of synchronous rounds; null for rounds.</summary>
    public int? FedBuffBufferSize { get; set; }

    /// <summary>Client trainings that run at once in this process (default 4: every hospital in parallel).</summary>
    public int MaxConcurrency { get; set; } = 4;

    public string? DataDirectory { get; set; }

    /// <summary>After training, evaluate the global model and every hospital's last local model on every hospital's test set.</summary>
    public bool CrossSite { get; set; }
}

/// <summary>FLamby's per-strategy settings (flamby_benchmark_summary.csv) and the method row to compare with.</summary>
public sealed record StrategyPlan(IAggregator Aggregator, double ClientLearningRate, string? FlambyMethod, int MinFitClients);

/// <summary>Per-round figures, for progress, the plot and the JSON output.</summary>
public sealed record RoundFigures(int Round, double? DistributedLoss, double? DistributedAccuracy, double PooledAccuracy, IReadOnlyDictionary<string, double> HospitalAccuracy, int Failures);

/// <summary>The outcome of a run.</summary>
public sealed record HeartDiseaseResult(
    IReadOnlyList<RoundFigures> Rounds,
    IReadOnlyDictionary<string, double> HospitalAccuracy,
    double PooledAccuracy,
    double PerCentreMeanAccuracy,
    float[] FinalParameters,
    string Aggregator,
    string? FlambyMethod,
    double ClientLearningRate,
    CrossSiteMatrix? CrossSite = null);

/// <summary>The FLamby Fed-Heart-Disease federation: four hospitals, logistic regression, trained with FederatedSharp.</summary>
public static class HeartDiseaseFederation
{
    /// <summary>The strategy with FLamby's hyperparameters for Fed-Heart-Disease, overridden by the options.</summary>
    public static StrategyPlan Plan(HeartDiseaseOptions options)
    {
        string name = options.Strategy.ToLowerInvariant();
        (string? method, double lr, ConfigRecord hyper) = name switch
        {
            "fedavg" => ("FedAvg100", 0.001, new ConfigRecord()),
            "fedprox" => ("FedProx100", 0.001, new ConfigRecord { ["proximal_mu"] = 0.01 }),
            "scaffold" => ("Scaffold100", 0.001, new ConfigRecord { ["server_learning_rate"] = 1.0 }),
            "cyclic" => ("Cyclic100", 0.01, new ConfigRecord { ["deterministic_cycle"] = false }),
            "fedadam" => ("FedAdam100", 0.01, new ConfigRecord { ["eta"] = 0.01, ["beta_1"] = 0.9, ["beta_2"] = 0.999, ["tau"] = 1e-8 }),
            "fedyogi" => ("FedYogi100", 0.003162, new ConfigRecord { ["eta"] = 0.01, ["beta_1"] = 0.9, ["beta_2"] = 0.999, ["tau"] = 1e-8 }),
            "fedadagrad" => ("FedAdagrad100", 0.003162, new ConfigRecord { ["eta"] = 0.316228, ["beta_1"] = 0.9, ["tau"] = 1e-8 }),
            _ => ((string?)null, 0.001, new ConfigRecord()),
        };
        if (options.ProximalMu is { } mu)
        {
            hyper["proximal_mu"] = mu;
        }

        foreach ((string key, ConfigValue value) in options.Hyperparameters)
        {
            hyper[key] = value;
        }

        IAggregator aggregator = Aggregators.Create(name, hyper);
        return new StrategyPlan(aggregator, options.LearningRate ?? lr, method, aggregator is Cyclic cyclic ? cyclic.GroupSize : 4);
    }

    /// <summary>The strategy alone (see <see cref="Plan"/>).</summary>
    public static IAggregator CreateAggregator(HeartDiseaseOptions options) => Plan(options).Aggregator;

    public static nn.Module<Tensor, Tensor> CreateModel() => nn.Sequential(("fc", nn.Linear(HeartDiseaseData.FeatureCount, 1)), ("sigmoid", nn.Sigmoid()));

    public static async Task<HeartDiseaseResult> RunAsync(
        HeartDiseaseOptions options, IProgress<RoundFigures>? progress = null, ILoggerFactory? loggerFactory = null, CancellationToken cancellationToken = default)
    {
        HeartDiseaseDataSet data = HeartDiseaseData.Load(options.DataDirectory);
        IReadOnlyList<Centre> centres = data.Centres;
        StrategyPlan plan = Plan(options);
        IAggregator aggregator = plan.Aggregator;
        double learningRate = plan.ClientLearningRate;

        // The initial global model: PyTorch's default initialisation under a fixed seed.
        torch.random.manual_seed((long)(options.Seed % long.MaxValue));
        using var evaluator = new TorchTrainerClient(new TorchTrainerOptions
        {
            Module = CreateModel(),
            Train = TorchDataSet.FromArrays(centres[0].TrainFeatures, HeartDiseaseData.FeatureCount, centres[0].TrainLabels),
            Loss = nn.BCELoss().forward,
            Metrics = { ["accuracy"] = TorchMetrics.BinaryAccuracy() },
        });
        using ModelParameters initial = evaluator.GetParameters();

        var testSets = centres.Select(c => TorchDataSet.FromArrays(c.TestFeatures, HeartDiseaseData.FeatureCount, c.TestLabels)).ToArray();
        // FLamby's pooled test set: every centre's test rows, standardised with the pooled training statistics.
        using var pooled = TorchDataSet.FromArrays(data.PooledTestFeatures, HeartDiseaseData.FeatureCount, data.PooledTestLabels);

        await using var transport = new InMemoryTransport(new InMemoryTransportOptions { MaxConcurrency = options.MaxConcurrency });
        var clients = new List<TorchTrainerClient>();
        foreach (Centre c in centres)
        {
            var client = new TorchTrainerClient(new TorchTrainerOptions
            {
                Module = CreateModel(),
                Train = TorchDataSet.FromArrays(c.TrainFeatures, HeartDiseaseData.FeatureCount, c.TrainLabels),
                Test = TorchDataSet.FromArrays(c.TestFeatures, HeartDiseaseData.FeatureCount, c.TestLabels),
                Loss = nn.BCELoss().forward,
                LearningRate = learningRate,
                BatchSize = options.BatchSize,
                LocalSteps = options.LocalSteps,
                Seed = options.Seed + (ulong)c.Index,
                Metrics = { ["accuracy"] = TorchMetrics.BinaryAccuracy() },
            });
            clients.Add(client);
            // For cross-site evaluation each hospital keeps its last locally trained model to share afterwards.
            transport.AddClient(c.Name, options.CrossSite ? new LocalModelClient(client) : client);
        }

        try
        {
            var figures = new List<RoundFigures>();
            FederatedServer server = new FederatedServerBuilder()
                .UseTransport(transport)
                .UseAggregator(aggregator)
                .WithInitialParameters(initial)
                .UseLoggerFactory(loggerFactory ?? NullLoggerFactory.Instance)
                .Configure(o =>
                {
                    o.Rounds = options.Rounds;
                    o.MinAvailableClients = 4;
                    o.MinFitClients = plan.MinFitClients;
                    o.MinEvaluateClients = 4;
                    o.Seed = options.Seed;
                })
                .WithFitConfig(_ => new ConfigRecord
                {
                    [ConfigKeys.LocalSteps] = options.LocalSteps,
                    [ConfigKeys.LearningRate] = learningRate,
                    [ConfigKeys.BatchSize] = options.BatchSize,
                })
                .WithCentralizedEvaluation((round, parameters, ct) =>
                {
                    // In a simulation the server may look at every hospital's test set: FLamby's per-centre and pooled metrics.
                    var metrics = new ConfigRecord { ["accuracy"] = Accuracy(evaluator, parameters, pooled) };
                    for (int i = 0; i < centres.Count; i++)
                    {
                        metrics["accuracy/" + centres[i].Name] = Accuracy(evaluator, parameters, testSets[i]);
                    }

                    return Task.FromResult(new EvaluateResult(0, pooled.Count, metrics.Freeze()));
                })
                .UseIf(options.FedBuffBufferSize is not null, b => b.UseBufferedAsynchronousAggregation(f =>
                {
                    f.BufferSize = options.FedBuffBufferSize!.Value;
                    f.Concurrency = centres.Count;
                }))
                .Build();

            using FederationResult result = await server.RunAsync(
                new SynchronousProgress<RoundReport>(report =>
                {
                    RoundRecord r = report.Record;
                    var f = new RoundFigures(
                        r.Round,
                        r.DistributedLoss,
                        r.DistributedMetrics.TryGetValue("accuracy", out ConfigValue a) ? a.AsDouble() : null,
                        r.CentralizedMetrics["accuracy"].AsDouble(),
                        centres.ToDictionary(c => c.Name, c => r.CentralizedMetrics["accuracy/" + c.Name].AsDouble()),
                        r.Failures.Count);
                    figures.Add(f);
                    progress?.Report(f);
                }),
                cancellationToken);

            CrossSiteMatrix? crossSite = options.CrossSite
                ? await new CrossSiteEvaluation(server).EvaluateAsync(result, centres.Select(c => c.Name).ToArray(), cancellationToken: cancellationToken)
                : null;
            RoundFigures last = figures[^1];
            return new HeartDiseaseResult(
                figures,
                last.HospitalAccuracy,
                last.PooledAccuracy,
                last.HospitalAccuracy.Values.Average(),
                result.Parameters.Values.ToArray(),
                aggregator.Name,
                plan.FlambyMethod,
                learningRate,
                crossSite);
        }
        finally
        {
            foreach (TorchTrainerClient client in clients)
            {
                client.Dispose();
            }

            foreach (TorchDataSet set in testSets)
            {
                set.Dispose();
            }
        }
    }

    private static double Accuracy(TorchTrainerClient evaluator, ModelParameters parameters, TorchDataSet data) =>
        evaluator.Evaluate(parameters, data).Metrics["accuracy"].AsDouble();

    /// <summary>Reports on the calling thread, in order (System.Progress posts to the thread pool).</summary>
    private sealed class SynchronousProgress<T>(Action<T> handler) : IProgress<T>
    {
        public void Report(T value) => handler(value);
    }
}

internal static class BuilderExtensions
{
    public static FederatedServerBuilder UseIf(this FederatedServerBuilder builder, bool condition, Func<FederatedServerBuilder, FederatedServerBuilder> configure) =>
        condition ? configure(builder) : builder;
}
