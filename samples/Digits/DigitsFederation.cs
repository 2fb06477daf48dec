using System.Diagnostics;
using System.Globalization;
using System.IO.Compression;
using FederatedSharp;
using FederatedSharp.Aggregation;
using FederatedSharp.Clients;
using FederatedSharp.Compression;
using FederatedSharp.Parameters;
using FederatedSharp.Serialization;
using FederatedSharp.Server;
using FederatedSharp.Simulation;
using FederatedSharp.TorchSharp.Modules;
using FederatedSharp.TorchSharp.Training;
using FederatedSharp.Transport.InMemory;
using TorchSharp;
using static TorchSharp.torch;

namespace Digits;

/// <summary>Settings of a Digits federation.</summary>
public sealed class DigitsOptions
{
    public string Strategy { get; set; } = "fedavg";

    public int Rounds { get; set; } = 50;

    public int Clients { get; set; } = 20;

    public double Alpha { get; set; } = 0.5;

    public double FractionFit { get; set; } = 0.5;

    public int LocalSteps { get; set; } = 20;

    public int BatchSize { get; set; } = 16;

    public double LearningRate { get; set; } = 0.05;

    public ulong Seed { get; set; } = 1;

    /// <summary>Wire encoding of every model exchanged (null: no serialization, unless <see cref="SparseWire"/>).</summary>
    public ElementEncoding? Encoding { get; set; }

    /// <summary>Models cross the wire in the sparse format (dense tensors as float32, sparse ones without their zeros).</summary>
    public bool SparseWire { get; set; }

    /// <summary>Top-k sparse updates with error feedback: the fraction of each update's values sent (null: whole models).</summary>
    public double? TopKFraction { get; set; }

    /// <summary>Downlink deltas: the fraction of each difference from the model a client holds that goes down (null: whole models).</summary>
    public double? DownlinkFraction { get; set; }

    /// <summary>Parameters the clients do not train and leave out of their updates (patterns, e.g. <c>conv1.</c>).</summary>
    public IList<string> Frozen { get; } = new List<string>();

    /// <summary>LoRA on the classifier with this rank (alpha = 2 x rank), everything else frozen: only the adapters train and travel up.</summary>
    public int? LoraRank { get; set; }

    /// <summary>The model to start from, in the plain model's layout (a pretrained one); null: a fresh model.</summary>
    public ModelParameters? Initial { get; set; }

    public string? DataDirectory { get; set; }
}

/// <summary>Accuracy per round and what the wire carried.</summary>
public sealed record DigitsResult(string Strategy, IReadOnlyList<double> Accuracy, double FinalAccuracy, long BytesSent, long BytesReceived, TimeSpan Elapsed)
{
    /// <summary>The final global model's values (in the run's layout).</summary>
    public float[] FinalValues { get; init; } = [];
}

/// <summary>The 8x8 digits split over clients by a Dirichlet(alpha) label partition, a small CNN trained with FederatedSharp.</summary>
public static class DigitsFederation
{
    public sealed record DataSplit(float[] TrainX, long[] TrainY, float[] TestX, long[] TestY);

    public static DataSplit Load(ulong seed, string? directory = null)
    {
        string path = Path.Combine(directory ?? Path.Combine(AppContext.BaseDirectory, "data"), "digits.csv.gz");
        using var gzip = new GZipStream(File.OpenRead(path), CompressionMode.Decompress);
        using var reader = new StreamReader(gzip);
        var x = new List<float[]>();
        var y = new List<long>();
        while (reader.ReadLine() is { Length: > 0 } line)
        {
            int[] cells = line.Split(',').Select(c => int.Parse(c, CultureInfo.InvariantCulture)).ToArray();
            x.Add(cells.Take(64).Select(v => v / 16f).ToArray());
            y.Add(cells[64]);
        }

        // A seeded 80/20 train/test split.
        int[] order = Enumerable.Range(0, x.Count).ToArray();
        new DeterministicRandom(seed).ShuffleInPlace(order.AsSpan());
        int trainCount = x.Count * 4 / 5;
        int[] train = order[..trainCount];
        int[] test = order[trainCount..];
        return new DataSplit(
            train.SelectMany(i => x[i]).ToArray(), train.Select(i => y[i]).ToArray(),
            test.SelectMany(i => x[i]).ToArray(), test.Select(i => y[i]).ToArray());
    }

    public static nn.Module<Tensor, Tensor> CreateModel(int? loraRank = null)
    {
        var model = nn.Sequential(
            ("conv1", nn.Conv2d(1, 16, 3, padding: 1)), ("relu1", nn.ReLU()), ("pool1", nn.MaxPool2d(2)),
            ("conv2", nn.Conv2d(16, 32, 3, padding: 1)), ("relu2", nn.ReLU()), ("pool2", nn.MaxPool2d(2)),
            ("flatten", nn.Flatten()), ("fc", nn.Linear(32 * 2 * 2, 10)));
        return loraRank is int rank ? Lora.Apply(model, rank, alpha: 2 * rank, "fc") : model;
    }

    // The starting model in the run's layout: a fresh one, with a pretrained plain model's tensors where they exist
    // (the LoRA classifier's base is the plain classifier; its adapters start fresh).
    private static ModelParameters InitialModel(DigitsOptions options)
    {
        ModelParameters initial = new FederatedSharp.TorchSharp.TorchModelAdapter(CreateModel(options.LoraRank)).ToParameters();
        if (options.Initial is { } pretrained)
        {
            foreach (TensorSpec tensor in initial.Layout.Tensors)
            {
                string source = tensor.Name.Replace("fc.base.", "fc.", StringComparison.Ordinal);
                if (pretrained.Layout.Tensors.Any(t => t.Name == source))
                {
                    pretrained.GetTensor(source).CopyTo(initial.GetTensor(tensor.Name));
                }
            }
        }

        return initial;
    }

    public static IAggregator CreateStrategy(string name) => name.ToLowerInvariant() switch
    {
        "fedprox" => new FedProx(0.01),
        "fedadam" => new FedAdam(eta: 0.01, beta1: 0.9, beta2: 0.99, tau: 1e-3),
        _ => Aggregators.Create(name),
    };

    public static TorchTrainerClient CreateClient(DataSplit data, int[] indices, DigitsOptions options, int index)
    {
        torch.random.manual_seed(index);
        var trainer = new TorchTrainerOptions
        {
            Module = CreateModel(options.LoraRank),
            Train = TorchDataSet.FromClassification(indices.SelectMany(i => data.TrainX.AsSpan(i * 64, 64).ToArray()).ToArray(), new long[] { 1, 8, 8 }, indices.Select(i => data.TrainY[i]).ToArray()),
            Loss = nn.CrossEntropyLoss().forward,
            LearningRate = options.LearningRate,
            BatchSize = options.BatchSize,
            LocalSteps = options.LocalSteps,
            Seed = options.Seed + (ulong)index,
            Metrics = { ["accuracy"] = TorchMetrics.MulticlassAccuracy() },
        };
        foreach (string pattern in options.Frozen)
        {
            trainer.Frozen.Add(pattern);
        }

        if (options.LoraRank is not null)
        {
            trainer.Trainable.Add("*lora_*");
        }

        return new TorchTrainerClient(trainer);
    }

    public static async Task<DigitsResult> RunAsync(DigitsOptions options, IProgress<(int Round, double Accuracy)>? progress = null, CancellationToken cancellationToken = default)
    {
        torch.set_num_threads(1);
        DataSplit data = Load(options.Seed, options.DataDirectory);
        IReadOnlyList<int[]> partition = DirichletPartitioner.Partition(data.TrainY.Select(l => (int)l).ToArray(), options.Clients, options.Alpha, options.Seed, minPartitionSize: 10);
        var clients = partition.Select((indices, i) => CreateClient(data, indices, options, i)).ToList();
        using TorchDataSet test = TorchDataSet.FromClassification(data.TestX, new long[] { 1, 8, 8 }, data.TestY);
        torch.random.manual_seed((long)options.Seed);
        using TorchTrainerClient evaluator = CreateClient(data, partition[0], options, 0);
        using ModelParameters initial = InitialModel(options);

        // Top-k deltas go up in the sparse format; the global model goes down in --encoding (float32 by default).
        if (options.DownlinkFraction is not null && options.Encoding is not null and not ElementEncoding.Float32)
        {
            throw new ArgumentException("Downlink deltas need a lossless downlink: leave --encoding out (the sparse format carries them).");
        }

        IModelSerializer? wire = options.SparseWire || options.DownlinkFraction is not null ? new SparseModelSerializer()
            : options.Encoding is { } encoding ? new BinaryModelSerializer(new BinaryModelSerializerOptions { Encoding = encoding })
            : options.TopKFraction is null ? null : new BinaryModelSerializer();
        IModelSerializer? uplink = options.TopKFraction is not null ? new SparseModelSerializer()
            : options.DownlinkFraction is not null ? new BinaryModelSerializer() : null;
        await using var transport = new InMemoryTransport(new InMemoryTransportOptions { MaxConcurrency = 2, WireSerializer = wire, UplinkSerializer = uplink });
        for (int i = 0; i < clients.Count; i++)
        {
            IClient client = options.TopKFraction is null ? clients[i] : new TopKUpdateClient(clients[i]);
            transport.AddClient(FederatedSimulation.ClientId(i), options.DownlinkFraction is null ? client : new DownlinkDeltaClient(client));
        }

        var accuracy = new List<double>();
        var stopwatch = Stopwatch.StartNew();
        try
        {
            FederatedServerBuilder builder = new FederatedServerBuilder()
                .UseTransport(transport)
                .UseAggregator(CreateStrategy(options.Strategy))
                .WithInitialParameters(initial)
                .Configure(o =>
                {
                    o.Rounds = options.Rounds;
                    o.FractionFit = options.FractionFit;
                    o.MinAvailableClients = options.Clients;
                    o.FractionEvaluate = 0;
                    o.Seed = options.Seed;
                })
                .WithCentralizedEvaluation((round, parameters, ct) =>
                {
                    EvaluateResult r = evaluator.Evaluate(parameters, test);
                    accuracy.Add(r.Metrics["accuracy"].AsDouble());
                    progress?.Report((round, accuracy[^1]));
                    return Task.FromResult(r);
                });
            if (options.TopKFraction is double fraction)
            {
                builder.UseSparseUpdates(fraction);
            }

            if (options.DownlinkFraction is double downlink)
            {
                builder.UseDownlinkDeltas(downlink);
            }

            if (options.Frozen.Count > 0 || options.LoraRank is not null)
            {
                builder.UsePartialUpdates();
            }

            FederatedServer server = builder.Build();
            using FederationResult result = await server.RunAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
            return new DigitsResult(options.Strategy, accuracy, accuracy[^1], transport.BytesSent, transport.BytesReceived, stopwatch.Elapsed)
            {
                FinalValues = result.Parameters.Values.ToArray(),
            };
        }
        finally
        {
            foreach (TorchTrainerClient c in clients)
            {
                c.Dispose();
            }
        }
    }
}
