using System.Globalization;
using System.Text.Json;
using HeartDisease;
using ScottPlot;
using Spectre.Console;

// FLamby Fed-Heart-Disease with FederatedSharp: four hospitals train a logistic regression without sharing patients.
// Usage: dotnet run --project samples/HeartDisease -- [--rounds 15] [--strategy fedavg|fedprox] [--mu 0.01]
//        [--seed 42] [--local-steps 100] [--lr 0.001] [--batch-size 4] [--output results.json] [--plot accuracy.png]
//        [--otel-console] (spans and metrics through OpenTelemetry's console exporter)
//        [--cross-site] [--cross-site-plot cross-site.png] (every hospital's local model and the global one on every test set)
var options = new HeartDiseaseOptions();
string plotPath = "heart-disease-accuracy.png";
string crossSitePlot = "heart-disease-cross-site.png";
string? outputPath = null;
IDisposable? telemetry = null;
for (int i = 0; i < args.Length; i++)
{
    string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value.");
    switch (args[i])
    {
        case "--rounds": options.Rounds = int.Parse(Next(), CultureInfo.InvariantCulture); break;
        case "--strategy": options.Strategy = Next(); break;
        case "--mu": options.ProximalMu = double.Parse(Next(), CultureInfo.InvariantCulture); break;
        case "--hp":
            string[] pair = Next().Split('=', 2);
            options.Hyperparameters[pair[0]] = pair.Length == 2 && double.TryParse(pair[1], NumberStyles.Float, CultureInfo.InvariantCulture, out double number)
                ? (pair[1].Contains('.') || pair[1].Contains('e') ? number : (long)number)
                : pair.Length == 2 && bool.TryParse(pair[1], out bool flag) ? flag : throw new ArgumentException($"--hp expects key=number or key=true|false, got '{pair[0]}'.");
            break;
        case "--seed": options.Seed = ulong.Parse(Next(), CultureInfo.InvariantCulture); break;
        case "--local-steps": options.LocalSteps = int.Parse(Next(), CultureInfo.InvariantCulture); break;
        case "--lr": options.LearningRate = double.Parse(Next(), CultureInfo.InvariantCulture); break;
        case "--batch-size": options.BatchSize = int.Parse(Next(), CultureInfo.InvariantCulture); break;
        case "--fedbuff": options.FedBuffBufferSize = int.Parse(Next(), CultureInfo.InvariantCulture); break;
        case "--output": outputPath = Next(); break;
        case "--plot": plotPath = Next(); break;
        case "--otel-console": telemetry ??= OpenTelemetryConsole.Start("heart-disease-simulation"); break;
        case "--cross-site": options.CrossSite = true; break;
        case "--cross-site-plot": options.CrossSite = true; crossSitePlot = Next(); break;
        case "--help" or "-h":
            Console.WriteLine("options: --rounds N --strategy NAME --mu X --hp key=value --seed N --local-steps N --lr X --batch-size N --fedbuff K --output FILE.json --plot FILE.png --otel-console --cross-site --cross-site-plot FILE.png");
            Console.WriteLine("strategies (hyperparameters): " + string.Join("; ", FederatedSharp.Aggregation.Aggregators.Names.Select(n => $"{n.Key} ({n.Value})")));
            return 0;
        default:
            Console.Error.WriteLine($"Unknown option '{args[i]}' (try --help).");
            return 2;
    }
}

StrategyPlan plan = HeartDiseaseFederation.Plan(options);
AnsiConsole.MarkupLine($"[bold]Fed-Heart-Disease[/]: 4 hospitals, {plan.Aggregator.Name}, {options.Rounds} rounds x {options.LocalSteps} local steps (SGD lr {plan.ClientLearningRate}, batch {options.BatchSize}), seed {options.Seed}");
HeartDiseaseResult result = await HeartDiseaseFederation.RunAsync(options, new ConsoleProgress(options.Rounds));
telemetry?.Dispose();

string flambyMethod = result.FlambyMethod ?? "FedAvg100";
FlambyFigures flamby = FlambyFigures.Load(flambyMethod);
var table = new Table().Title($"Test accuracy after {options.Rounds} rounds vs FLamby's {flambyMethod} (mean over 5 seeds)"
    + (result.FlambyMethod is null ? $" (FLamby did not run {result.Aggregator}; FedAvg shown)" : string.Empty));
table.AddColumn("Test set").AddColumn(new TableColumn("FederatedSharp").RightAligned()).AddColumn(new TableColumn("FLamby").RightAligned());
int index = 0;
foreach ((string hospital, double accuracy) in result.HospitalAccuracy)
{
    table.AddRow(hospital, accuracy.ToString("F3", CultureInfo.InvariantCulture), flamby.CentreMeans[index++].ToString("F3", CultureInfo.InvariantCulture));
}

table.AddRow("[bold]per-centre mean[/]", result.PerCentreMeanAccuracy.ToString("F3", CultureInfo.InvariantCulture), $"{flamby.PerCentreMean:F3} ± {flamby.PerCentreStd:F3}");
table.AddRow("[bold]pooled[/]", result.PooledAccuracy.ToString("F3", CultureInfo.InvariantCulture), $"{flamby.PooledMean:F3} ± {flamby.PooledStd:F3}");
AnsiConsole.Write(table);

WritePlot(plotPath, result);
AnsiConsole.MarkupLine($"Accuracy plot written to [link]{Path.GetFullPath(plotPath)}[/]");
if (result.CrossSite is { } crossSite)
{
    CrossSitePlot.Print(crossSite, "accuracy");
    CrossSitePlot.Write(crossSitePlot, crossSite, "accuracy");
    AnsiConsole.MarkupLine($"Cross-site heat map written to [link]{Path.GetFullPath(crossSitePlot)}[/]");
}
if (outputPath is not null)
{
    var json = new
    {
        strategy = result.Aggregator,
        options.Rounds,
        options.Seed,
        options.LocalSteps,
        learningRate = result.ClientLearningRate,
        batchSize = options.BatchSize,
        hyperparameters = options.Hyperparameters.ToDictionary(p => p.Key, p => p.Value.ToString()),
        history = result.Rounds.Select(r => new
        {
            round = r.Round,
            distributedLoss = r.DistributedLoss,
            distributedAccuracy = r.DistributedAccuracy,
            pooledAccuracy = r.PooledAccuracy,
            hospitalAccuracy = r.HospitalAccuracy,
            failures = r.Failures,
        }),
        final = new
        {
            pooledAccuracy = result.PooledAccuracy,
            perCentreMeanAccuracy = result.PerCentreMeanAccuracy,
            hospitalAccuracy = result.HospitalAccuracy,
        },
        flamby = new { method = flamby.Method, perCentreMean = flamby.PerCentreMean, pooledMean = flamby.PooledMean, centreMeans = flamby.CentreMeans },
    };
    File.WriteAllText(outputPath, JsonSerializer.Serialize(json, new JsonSerializerOptions { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.CamelCase }));
    AnsiConsole.MarkupLine($"Results written to [link]{Path.GetFullPath(outputPath)}[/]");
}

return 0;

static void WritePlot(string path, HeartDiseaseResult result)
{
    var plot = new Plot();
    double[] rounds = result.Rounds.Select(r => (double)r.Round).ToArray();
    var pooled = plot.Add.Scatter(rounds, result.Rounds.Select(r => r.PooledAccuracy).ToArray());
    pooled.LegendText = "pooled test";
    pooled.LineWidth = 3;
    foreach (string hospital in result.HospitalAccuracy.Keys)
    {
        var line = plot.Add.Scatter(rounds, result.Rounds.Select(r => r.HospitalAccuracy[hospital]).ToArray());
        line.LegendText = hospital;
        line.LinePattern = LinePattern.Dashed;
    }

    plot.Title($"Fed-Heart-Disease, {result.Aggregator}: test accuracy per round");
    plot.XLabel("Round");
    plot.YLabel("Accuracy");
    plot.Axes.SetLimitsY(0, 1);
    plot.ShowLegend(Alignment.LowerRight);
    string? folder = Path.GetDirectoryName(Path.GetFullPath(path));
    Directory.CreateDirectory(folder!);
    plot.SavePng(path, 900, 550);
}

/// <summary>Prints one line per round as it finishes.</summary>
internal sealed class ConsoleProgress(int rounds) : IProgress<RoundFigures>
{
    public void Report(RoundFigures f)
    {
        string hospitals = string.Join("  ", f.HospitalAccuracy.Select(h => $"{h.Key} {h.Value:F3}"));
        AnsiConsole.MarkupLine(CultureInfo.InvariantCulture,
            "round {0,2}/{1}  loss {2}  pooled acc [bold]{3:F3}[/]  {4}{5}",
            f.Round, rounds, f.DistributedLoss?.ToString("F4", CultureInfo.InvariantCulture) ?? "n/a", f.PooledAccuracy, Markup.Escape(hospitals),
            f.Failures > 0 ? $"  [red]{f.Failures} failures[/]" : string.Empty);
    }
}
