using System.Globalization;
using System.Text;
using FederatedSharp.Clients;
using FederatedSharp.Parameters;
using FederatedSharp.TorchSharp.Training;
using HeartDisease;
using ScottPlot;
using TorchSharp;

// FLamby's Fed-Heart-Disease benchmark reproduced with FederatedSharp: Local 0-3 and Pooled training (Adam lr 1e-3,
// 50 epochs, batch 4) and every federated strategy of flamby_benchmark_summary.csv with its hyperparameters (100 local
// updates, 15 rounds, batch 4), 5 seeds each. Writes a markdown table and a PNG bar chart.
// Usage: dotnet run -c Release --project benchmarks/FLamby -- [--seeds 42,43,44,45,46] [--output flamby.md] [--plot flamby.png]
ulong[] seeds = { 42, 43, 44, 45, 46 };
string output = "flamby-heart-disease.md";
string plotPath = "flamby-heart-disease.png";
for (int i = 0; i < args.Length; i++)
{
    switch (args[i])
    {
        case "--seeds": seeds = args[++i].Split(',').Select(s => ulong.Parse(s, CultureInfo.InvariantCulture)).ToArray(); break;
        case "--output": output = args[++i]; break;
        case "--plot": plotPath = args[++i]; break;
        default: Console.Error.WriteLine($"Unknown option {args[i]}"); return 2;
    }
}

HeartDiseaseDataSet data = HeartDiseaseData.Load();
var rows = new List<(string Method, double[][] PerSeedCentres, double[] PerSeedPooled)>();

foreach (string method in new[] { "Pooled Training", "Local 0", "Local 1", "Local 2", "Local 3" })
{
    var centres = new List<double[]>();
    var pooled = new List<double>();
    foreach (ulong seed in seeds)
    {
        (double[] c, double p) = TrainCentrally(data, method, seed);
        centres.Add(c);
        pooled.Add(p);
        Console.WriteLine($"{method,-16} seed {seed}: per-centre {string.Join(" ", c.Select(v => v.ToString("F3", CultureInfo.InvariantCulture)))}, pooled {p:F3}");
    }

    rows.Add((method, centres.ToArray(), pooled.ToArray()));
}

foreach ((string strategy, string method) in new[] { ("fedavg", "FedAvg100"), ("fedprox", "FedProx100"), ("scaffold", "Scaffold100"), ("cyclic", "Cyclic100"), ("fedadam", "FedAdam100"), ("fedyogi", "FedYogi100"), ("fedadagrad", "FedAdagrad100") })
{
    var centres = new List<double[]>();
    var pooled = new List<double>();
    foreach (ulong seed in seeds)
    {
        HeartDiseaseResult r = await HeartDiseaseFederation.RunAsync(new HeartDiseaseOptions { Strategy = strategy, Seed = seed });
        centres.Add(r.HospitalAccuracy.Values.ToArray());
        pooled.Add(r.PooledAccuracy);
        Console.WriteLine($"{method,-16} seed {seed}: per-centre {string.Join(" ", centres[^1].Select(v => v.ToString("F3", CultureInfo.InvariantCulture)))}, pooled {r.PooledAccuracy:F3}");
    }

    rows.Add((method, centres.ToArray(), pooled.ToArray()));
}

var md = new StringBuilder();
md.AppendLine($"| method | ours: per-centre mean ± std | FLamby | ours: pooled ± std | FLamby | ours: centres 0 / 1 / 2 / 3 | FLamby centres |");
md.AppendLine("|---|---|---|---|---|---|---|");
var chart = new List<(string Method, double Ours, double Flamby)>();
foreach ((string method, double[][] perSeed, double[] pooled) in rows)
{
    FlambyFigures f = FlambyFigures.Load(method);
    double[] clientAverage = perSeed.Select(c => c.Average()).ToArray();
    double mean = clientAverage.Average();
    double[] centreMeans = Enumerable.Range(0, 4).Select(c => perSeed.Average(s => s[c])).ToArray();
    md.AppendLine(CultureInfo.InvariantCulture, $"| {method} | {mean:F3} ± {Std(clientAverage):F3} | {f.PerCentreMean:F3} ± {f.PerCentreStd:F3} | {pooled.Average():F3} ± {Std(pooled):F3} | {f.PooledMean:F3} ± {f.PooledStd:F3} | {string.Join(" / ", centreMeans.Select(v => v.ToString("F3", CultureInfo.InvariantCulture)))} | {string.Join(" / ", f.CentreMeans.Select(v => v.ToString("F3", CultureInfo.InvariantCulture)))} |");
    chart.Add((method, mean, f.PerCentreMean));
}

File.WriteAllText(output, md.ToString());
Console.WriteLine();
Console.WriteLine(md);
Console.WriteLine($"Table written to {Path.GetFullPath(output)}");

var plot = new Plot();
var bars = new List<Bar>();
for (int i = 0; i < chart.Count; i++)
{
    bars.Add(new Bar { Position = (i * 3) + 0, Value = chart[i].Ours, FillColor = Colors.SteelBlue });
    bars.Add(new Bar { Position = (i * 3) + 1, Value = chart[i].Flamby, FillColor = Colors.Orange });
}

plot.Add.Bars(bars.ToArray());
plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericManual(
    chart.Select((c, i) => new Tick((i * 3) + 0.5, c.Method.Replace("100", string.Empty, StringComparison.Ordinal))).ToArray());
plot.Axes.Bottom.TickLabelStyle.Rotation = 45;
plot.Axes.Bottom.TickLabelStyle.Alignment = Alignment.MiddleLeft;
plot.Axes.Bottom.MinimumSize = 110;
plot.Axes.SetLimitsY(0, 1);
plot.YLabel("Mean test accuracy over centres and seeds");
plot.Title("Fed-Heart-Disease: FederatedSharp (blue) vs FLamby (orange)");
plot.Legend.ManualItems.Add(new LegendItem { LabelText = "FederatedSharp", FillColor = Colors.SteelBlue });
plot.Legend.ManualItems.Add(new LegendItem { LabelText = "FLamby", FillColor = Colors.Orange });
plot.ShowLegend(Alignment.LowerRight);
plot.SavePng(plotPath, 1000, 600);
Console.WriteLine($"Chart written to {Path.GetFullPath(plotPath)}");
return 0;

static double Std(double[] values)
{
    double mean = values.Average();
    return Math.Sqrt(values.Sum(v => (v - mean) * (v - mean)) / Math.Max(1, values.Length - 1));
}

// Local and pooled baselines: Adam lr 1e-3, 50 epochs, batch 4, evaluated on every centre's test set and the pooled one.
static (double[] Centres, double Pooled) TrainCentrally(HeartDiseaseDataSet data, string method, ulong seed)
{
    bool pooled = method == "Pooled Training";
    int centre = pooled ? -1 : int.Parse(method[^1..], CultureInfo.InvariantCulture);
    float[] x = pooled ? data.PooledTrainFeatures : data.Centres[centre].TrainFeatures;
    float[] y = pooled ? data.PooledTrainLabels : data.Centres[centre].TrainLabels;
    torch.random.manual_seed((long)seed);
    using var client = new TorchTrainerClient(new TorchTrainerOptions
    {
        Module = HeartDiseaseFederation.CreateModel(),
        Train = TorchDataSet.FromArrays(x, HeartDiseaseData.FeatureCount, y),
        Loss = torch.nn.BCELoss().forward,
        OptimizerFactory = (p, lr) => torch.optim.Adam(p, lr),
        LearningRate = 1e-3,
        BatchSize = 4,
        LocalEpochs = 50,
        Seed = seed,
        Metrics = { ["accuracy"] = TorchMetrics.BinaryAccuracy() },
    });
    using ModelParameters start = client.GetParameters();
    using FitResult trained = client.FitAsync(new FitInstructions(1, start, ConfigRecord.Empty)).GetAwaiter().GetResult();
    double Accuracy(float[] fx, float[] fy)
    {
        using var set = TorchDataSet.FromArrays(fx, HeartDiseaseData.FeatureCount, fy);
        return client.Evaluate(trained.Parameters, set).Metrics["accuracy"].AsDouble();
    }

    double[] centres = data.Centres.Select(c => Accuracy(c.TestFeatures, c.TestLabels)).ToArray();
    return (centres, Accuracy(data.PooledTestFeatures, data.PooledTestLabels));
}
