using System.Globalization;
using System.Text;
using FederatedSharp.Aggregation;
using FederatedSharp.Clients;
using FederatedSharp.Parameters;
using FederatedSharp.Serialization;
using FederatedSharp.Server;
using FederatedSharp.TorchSharp.Training;
using FederatedSharp.Transport.InMemory;
using Personalization;
using TorchSharp;

// Personalised FL benchmark: FedAvg, FedAvg + fine-tuning, FedPer, FedRep, FedBN and Ditto on three settings, 3 seeds
// each. Reports the mean per-client test accuracy (each site's own test split, of its personalised model; FedAvg's of
// the global model), the worst client, and the model bytes on the wire per round (float32).
// Usage: dotnet run -c Release --project benchmarks/Personalization -- [--seeds 1,2,3] [--settings label,feature,heart] [--output personalization.md]
ulong[] seeds = { 1, 2, 3 };
string[] which = { "label", "feature", "heart" };
string output = "personalization.md";
for (int i = 0; i < args.Length; i++)
{
    switch (args[i])
    {
        case "--seeds": seeds = args[++i].Split(',').Select(s => ulong.Parse(s, CultureInfo.InvariantCulture)).ToArray(); break;
        case "--settings": which = args[++i].Split(','); break;
        case "--output": output = args[++i]; break;
        default: Console.Error.WriteLine($"Unknown option {args[i]}"); return 2;
    }
}

torch.set_num_threads(1);
var methods = new (string Name, Func<PersonalizationOptions> Options)[]
{
    ("FedAvg", () => new PersonalizationOptions()),
    ("FedAvg + fine-tuning", () => new PersonalizationOptions { Method = PersonalizationMethod.FineTune, FineTuneSteps = 20 }),
    ("FedPer", () => new PersonalizationOptions { Method = PersonalizationMethod.FedPer, PersonalLayers = { "head." } }),
    ("FedRep", () => new PersonalizationOptions { Method = PersonalizationMethod.FedRep, PersonalLayers = { "head." }, HeadEpochs = 1 }),
    ("FedBN", () => new PersonalizationOptions { Method = PersonalizationMethod.FedBN }),
    ("Ditto", () => new PersonalizationOptions { Method = PersonalizationMethod.Ditto, DittoLambda = 0.1 }),
};

var report = new StringBuilder();
foreach (string name in which)
{
    Func<ulong, Setting> make = name switch
    {
        "label" => s => Settings.DigitsLabelSkew(s),
        "feature" => Settings.DigitsFeatureSkew,
        "heart" => Settings.HeartDisease,
        _ => throw new ArgumentException($"Unknown setting '{name}' (label, feature, heart)."),
    };
    var rows = new List<(string Method, double[] Mean, double[] Worst, double Bytes)>();
    string title = make(seeds[0]).Name;
    foreach ((string method, Func<PersonalizationOptions> options) in methods)
    {
        var means = new List<double>();
        var worst = new List<double>();
        double bytes = 0;
        foreach (ulong seed in seeds)
        {
            (double mean, double min, double perRound) = await Run(make(seed), options(), seed);
            means.Add(mean);
            worst.Add(min);
            bytes = perRound;
            Console.WriteLine($"{title} | {method,-20} seed {seed}: mean {mean:F3}, worst {min:F3}, {perRound / 1024:F1} KiB per round");
        }

        rows.Add((method, means.ToArray(), worst.ToArray(), bytes));
    }

    report.AppendLine(CultureInfo.InvariantCulture, $"**{title}** ({seeds.Length} seeds: mean ± standard deviation)").AppendLine();
    report.AppendLine("| method | mean per-client accuracy | worst client | KiB per round |").AppendLine("|---|---:|---:|---:|");
    foreach ((string method, double[] mean, double[] min, double b) in rows)
    {
        report.AppendLine(CultureInfo.InvariantCulture, $"| {method} | {Stat(mean)} | {Stat(min)} | {b / 1024:F1} |");
    }

    report.AppendLine();
}

File.WriteAllText(output, report.ToString());
Console.WriteLine();
Console.WriteLine(report);
return 0;

static string Stat(double[] values)
{
    double mean = values.Average();
    double sd = values.Length > 1 ? Math.Sqrt(values.Sum(v => (v - mean) * (v - mean)) / (values.Length - 1)) : 0;
    return string.Create(CultureInfo.InvariantCulture, $"{mean:F3} ± {sd:F3}");
}

static async Task<(double Mean, double Worst, double BytesPerRound)> Run(Setting setting, PersonalizationOptions personalization, ulong seed)
{
    var clients = new List<TorchTrainerClient>();
    await using var transport = new InMemoryTransport(new InMemoryTransportOptions { MaxConcurrency = 2, WireSerializer = new BinaryModelSerializer() });
    for (int i = 0; i < setting.Sites.Count; i++)
    {
        Site site = setting.Sites[i];
        torch.random.manual_seed((long)((seed * 1000) + (ulong)i));
        var client = new TorchTrainerClient(new TorchTrainerOptions
        {
            Module = setting.Model(),
            Train = Data(setting, site.TrainX, site.TrainY),
            Test = Data(setting, site.TestX, site.TestY),
            Loss = setting.Binary ? torch.nn.BCELoss().forward : torch.nn.CrossEntropyLoss().forward,
            LearningRate = setting.LearningRate,
            BatchSize = setting.BatchSize,
            LocalSteps = setting.LocalSteps,
            Seed = (seed * 1000) + (ulong)i,
            Metrics = { ["accuracy"] = setting.Binary ? TorchMetrics.BinaryAccuracy() : TorchMetrics.MulticlassAccuracy() },
            Personalization = personalization,
        });
        clients.Add(client);
        transport.AddClient($"site-{i:D2}", client);
    }

    try
    {
        torch.random.manual_seed((long)seed);
        using ModelParameters initial = clients[0].GetParameters();
        FederatedServer server = new FederatedServerBuilder().UseTransport(transport).UseAggregator(new FedAvg()).WithInitialParameters(initial)
            .Configure(o =>
            {
                o.Rounds = setting.Rounds;
                o.MinAvailableClients = o.MinFitClients = o.MinEvaluateClients = setting.Sites.Count;
                o.Seed = seed;
            })
            .Build();
        using FederationResult result = await server.RunAsync();
        string metric = personalization.Method == PersonalizationMethod.None ? "accuracy" : TorchTrainerClient.PersonalMetricPrefix + "accuracy";
        double[] accuracy = result.History.Rounds[^1].EvaluateResults.Select(r => r.Metrics[metric].AsDouble()).ToArray();
        return (accuracy.Average(), accuracy.Min(), (transport.BytesSent + transport.BytesReceived) / (double)setting.Rounds);
    }
    finally
    {
        foreach (TorchTrainerClient c in clients)
        {
            c.Dispose();
        }
    }
}

static TorchDataSet Data(Setting setting, float[] x, long[] y) => setting.Binary
    ? TorchDataSet.FromArrays(x, (int)setting.FeatureShape[0], y.Select(v => (float)v).ToArray())
    : TorchDataSet.FromClassification(x, setting.FeatureShape, y);
