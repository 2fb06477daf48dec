using System.Globalization;
using FederatedSharp.Clients;
using FederatedSharp.Grpc.Client;
using FederatedSharp.Grpc.Hosting;
using FederatedSharp.Parameters;
using FederatedSharp.Server;
using FederatedSharp.TorchSharp.Training;
using GrpcFederation;
using HeartDisease;
using Microsoft.Extensions.Logging;
using ScottPlot;
using TorchSharp;
using static TorchSharp.torch;

// Fed-Heart-Disease over the network: one server process and one process per hospital, talking gRPC with mutual TLS.
//   dotnet run --project samples/GrpcFederation -c Release -- server [--port 5443] [--rounds 15] [--seed 42] [--certs DIR] [--plot FILE.png]
//   dotnet run --project samples/GrpcFederation -c Release -- client --hospital Cleveland [--server https://localhost:5443] [--certs DIR]
// Certificates (a federation CA, the server's, one per hospital) are created in --certs (default ./certs) on first run.
// samples/GrpcFederation/run-local.sh starts all five processes on localhost.
if (args.Length == 0 || args[0] is "--help" or "-h")
{
    Console.WriteLine("usage: server [--port N] [--rounds N] [--seed N] [--certs DIR] [--plot FILE.png] [--host NAME]");
    Console.WriteLine("       client --hospital NAME [--server URL] [--certs DIR]");
    Console.WriteLine("hospitals: " + string.Join(", ", HeartDiseaseData.CentreNames));
    return args.Length == 0 ? 2 : 0;
}

string mode = args[0];
int port = 5443;
int rounds = 15;
ulong seed = 42;
string certs = "certs";
string plotPath = "grpc-federation.png";
string? hospital = null;
string server = $"https://localhost:{port}";
var hostNames = new List<string>();
for (int i = 1; i < args.Length; i++)
{
    string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value.");
    switch (args[i])
    {
        case "--port": port = int.Parse(Next(), CultureInfo.InvariantCulture); server = $"https://localhost:{port}"; break;
        case "--rounds": rounds = int.Parse(Next(), CultureInfo.InvariantCulture); break;
        case "--seed": seed = ulong.Parse(Next(), CultureInfo.InvariantCulture); break;
        case "--certs": certs = Next(); break;
        case "--plot": plotPath = Next(); break;
        case "--host": hostNames.Add(Next()); break;
        case "--hospital": hospital = Next(); break;
        case "--server": server = Next(); break;
        default: Console.Error.WriteLine($"Unknown option '{args[i]}'."); return 2;
    }
}

using ILoggerFactory logging = LoggerFactory.Create(b => b.AddSimpleConsole(o => { o.SingleLine = true; o.TimestampFormat = "HH:mm:ss "; }).SetMinimumLevel(LogLevel.Information)
    .AddFilter("Microsoft", LogLevel.Warning).AddFilter("FederatedSharp.Server", LogLevel.Warning));
using var stop = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) => { e.Cancel = true; stop.Cancel(); };

if (mode == "server")
{
    Certificates.EnsureCreated(certs, hostNames);
    var plan = HeartDiseaseFederation.Plan(new HeartDiseaseOptions { Seed = seed });
    var hostOptions = new GrpcFederationHostOptions
    {
        ListenAddress = System.Net.IPAddress.Any,
        Port = port,
        ServerCertificate = Certificates.LoadServer(certs),
    };
    hostOptions.Federation.ClientCertificateAuthority = Certificates.LoadCa(certs);
    hostOptions.Federation.AllowedClientIds.UnionWith(HeartDiseaseData.CentreNames.Select(Certificates.ClientId));
    await using GrpcFederationHost host = await GrpcFederationHost.StartAsync(hostOptions, logging, stop.Token);
    Console.WriteLine($"Listening on port {port} with mutual TLS; waiting for the {HeartDiseaseData.CentreNames.Length} hospitals ...");

    // The same initial model as the in-memory sample: PyTorch's default initialisation under the seed.
    torch.random.manual_seed((long)(seed % long.MaxValue));
    using var initialModel = HeartDiseaseFederation.CreateModel();
    using ModelParameters initial = new FederatedSharp.TorchSharp.TorchModelAdapter(initialModel).ToParameters();
    FederatedServer federation = new FederatedServerBuilder()
        .UseTransport(host.Transport)
        .UseAggregator(plan.Aggregator)
        .WithInitialParameters(initial)
        .UseLoggerFactory(logging)
        .Configure(o =>
        {
            o.Rounds = rounds;
            o.MinAvailableClients = 4;
            o.MinFitClients = Math.Min(2, plan.MinFitClients);   // a round survives two hospitals dropping out
            o.MinEvaluateClients = 2;
            o.Seed = seed;
            o.FitTimeout = TimeSpan.FromMinutes(2);
            o.EvaluateTimeout = TimeSpan.FromMinutes(1);
        })
        .WithFitConfig(_ => new ConfigRecord
        {
            [ConfigKeys.LocalSteps] = 100,
            [ConfigKeys.LearningRate] = plan.ClientLearningRate,
            [ConfigKeys.BatchSize] = 4,
        })
        .Build();

    var accuracy = new List<double>();
    var loss = new List<double>();
    using FederationResult result = await federation.RunAsync(new InlineProgress<RoundReport>(report =>
    {
        RoundRecord r = report.Record;
        double acc = r.DistributedMetrics.GetDouble("accuracy", double.NaN);
        accuracy.Add(acc);
        loss.Add(r.DistributedLoss ?? double.NaN);
        Console.WriteLine($"round {r.Round,2}/{rounds}: {r.AggregatedUpdates} updates, federated loss {r.DistributedLoss:F4}, accuracy {acc:F3}, " +
            $"{r.Failures.Count} failures, {r.Duration.TotalSeconds:F1} s; {host.Transport.BytesSent / 1e3:F0} kB sent, {host.Transport.BytesReceived / 1e3:F0} kB received");
    }), stop.Token);

    var plot = new Plot();
    var rs = Enumerable.Range(1, accuracy.Count).Select(r => (double)r).ToArray();
    plot.Add.Scatter(rs, accuracy.ToArray()).LegendText = "accuracy (example-weighted over hospitals)";
    plot.Add.Scatter(rs, loss.ToArray()).LegendText = "federated loss (BCE)";
    plot.Title("Fed-Heart-Disease over gRPC with mutual TLS (4 hospital processes)");
    plot.XLabel("round");
    plot.ShowLegend(Alignment.MiddleRight);
    plot.SavePng(plotPath, 900, 500);
    Console.WriteLine($"Done: final federated accuracy {accuracy[^1]:F3}; plot written to {plotPath}");
    Console.WriteLine("final parameters: " + string.Join(" ", result.Parameters.Values.ToArray().Select(v => v.ToString("G9", CultureInfo.InvariantCulture))));
    return 0;
}

if (mode == "client")
{
    if (hospital is null || Array.FindIndex(HeartDiseaseData.CentreNames, n => string.Equals(n, hospital, StringComparison.OrdinalIgnoreCase) || Certificates.ClientId(n) == hospital) is int index && index < 0)
    {
        Console.Error.WriteLine("--hospital must be one of: " + string.Join(", ", HeartDiseaseData.CentreNames));
        return 2;
    }

    Centre centre = HeartDiseaseData.Load().Centres[index];
    string clientId = Certificates.ClientId(centre.Name);
    while (!File.Exists(Certificates.CaCertificate(certs)))
    {
        Console.WriteLine($"Waiting for the certificates in {Path.GetFullPath(certs)} (start the server first) ...");
        await Task.Delay(1000, stop.Token);
    }

    using var trainer = new TorchTrainerClient(new TorchTrainerOptions
    {
        Module = HeartDiseaseFederation.CreateModel(),
        Train = TorchDataSet.FromArrays(centre.TrainFeatures, HeartDiseaseData.FeatureCount, centre.TrainLabels),
        Test = TorchDataSet.FromArrays(centre.TestFeatures, HeartDiseaseData.FeatureCount, centre.TestLabels),
        Loss = nn.BCELoss().forward,
        BatchSize = 4,
        LocalSteps = 100,
        Seed = seed + (ulong)centre.Index,
        Metrics = { ["accuracy"] = TorchMetrics.BinaryAccuracy() },
    });
    var runner = new GrpcClientRunner(
        new GrpcClientOptions
        {
            ServerAddress = new Uri(server),
            ClientId = clientId,
            Properties = new ConfigRecord { ["hospital"] = centre.Name, ["train_examples"] = (long)centre.TrainCount },
            ClientCertificate = Certificates.LoadClient(certs, clientId),
            TrustedCertificateAuthority = Certificates.LoadCa(certs),
        },
        logging.CreateLogger<GrpcClientRunner>());
    Console.WriteLine($"{centre.Name}: {centre.TrainCount} training and {centre.TestCount} test patients stay here; connecting to {server} as '{clientId}' ...");
    await runner.RunAsync(new ReportingClient(centre.Name, trainer), stop.Token);
    Console.WriteLine($"{centre.Name}: the federation is over ({runner.CompletedTasks} tasks done).");
    return 0;
}

Console.Error.WriteLine($"Unknown mode '{mode}': use server or client.");
return 2;

/// <summary>Prints what the hospital does for the federation.</summary>
internal sealed class ReportingClient(string name, IClient inner) : IClient
{
    public Task<ConfigRecord> GetPropertiesAsync(CancellationToken cancellationToken = default) => inner.GetPropertiesAsync(cancellationToken);

    public async Task<FitResult> FitAsync(FitInstructions instructions, CancellationToken cancellationToken = default)
    {
        FitResult result = await inner.FitAsync(instructions, cancellationToken);
        Console.WriteLine($"{name}: round {instructions.Round} trained on {result.ExampleCount} patients, train loss {result.Metrics.GetDouble("train_loss", double.NaN):F4}");
        return result;
    }

    public async Task<EvaluateResult> EvaluateAsync(EvaluateInstructions instructions, CancellationToken cancellationToken = default)
    {
        EvaluateResult result = await inner.EvaluateAsync(instructions, cancellationToken);
        Console.WriteLine($"{name}: round {instructions.Round} test accuracy {result.Metrics.GetDouble("accuracy", double.NaN):F3}");
        return result;
    }
}

internal sealed class InlineProgress<T>(Action<T> handler) : IProgress<T>
{
    public void Report(T value) => handler(value);
}
