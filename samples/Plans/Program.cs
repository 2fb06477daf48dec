using System.Globalization;
using FederatedSharp.Analytics;
using FederatedSharp.Clients;
using FederatedSharp.Plans;
using FederatedSharp.Server;
using ScottPlot;
using Spectre.Console;

// Runs a declarative training plan in simulation, the way nodes run it at hospitals: every site compiles the same
// JSON into the same TorchSharp trainer over its own table.
// Usage: dotnet run --project samples/Plans -- [PLAN.json] [SITES-FOLDER] [--plot FILE.png]
//   defaults: heart-disease.plan.json over data/heart-disease (4 hospitals); try digits-cnn.plan.json (data/digits).
//   Each *.csv in the folder is one site's table (the file name is the site's name).
string planPath = Path.Combine(AppContext.BaseDirectory, "heart-disease.plan.json");
string? plotPath = null;
var positional = new List<string>();
for (int i = 0; i < args.Length; i++)
{
    switch (args[i])
    {
        case "--plot": plotPath = i + 1 < args.Length ? args[++i] : throw new ArgumentException("--plot needs a file name."); break;
        case "--help" or "-h":
            Console.WriteLine("usage: Plans [PLAN.json] [SITES-FOLDER] [--plot FILE.png]");
            return 0;
        default: positional.Add(args[i]); break;
    }
}

if (positional.Count > 0)
{
    planPath = File.Exists(positional[0]) ? positional[0] : Path.Combine(AppContext.BaseDirectory, positional[0]);
}

TrainingPlan plan;
try
{
    plan = TrainingPlan.Load(planPath);
}
catch (PlanValidationException e)
{
    AnsiConsole.MarkupLine($"[red]{Markup.Escape(e.Message)}[/]");
    return 1;
}

string sitesFolder = positional.Count > 1
    ? positional[1]
    : Path.Combine(AppContext.BaseDirectory, "data", plan.Name.StartsWith("digits", StringComparison.Ordinal) ? "digits" : "heart-disease");
plotPath ??= plan.Name + ".png";
AnsiConsole.Write(new Panel(Markup.Escape(PlanSummary.Describe(plan).TrimEnd())).Header("What a site approves").Expand());

var sites = new SortedDictionary<string, TabularDataset>(StringComparer.Ordinal);
foreach (string file in Directory.GetFiles(sitesFolder, "*.csv").Order(StringComparer.Ordinal))
{
    string header = File.ReadLines(file).First();
    sites[Path.GetFileNameWithoutExtension(file)] = TabularDataset.LoadCsv(file, CsvSchema.FromHeader(header.Split(',')));
}

AnsiConsole.MarkupLine($"[bold]{sites.Count} sites[/] from {Markup.Escape(sitesFolder)}: {Markup.Escape(string.Join(", ", sites.Select(s => $"{s.Key} ({s.Value.RowCount} rows)")))}");
string metric = plan.Metrics.Count > 0 ? plan.Metrics[0] : "loss";
var rounds = new List<(int Round, double Loss, double Metric)>();
using FederationResult result = await PlanSimulation.RunAsync(plan, sites, progress: new RoundPrinter(plan, metric, rounds));

WritePlot(plotPath, plan, metric, rounds);
AnsiConsole.MarkupLine($"Plot written to [link]{Markup.Escape(Path.GetFullPath(plotPath))}[/]");
AnsiConsole.MarkupLine($"Done: plan {plan.Hash[..12]} trained {result.History.Rounds.Count} rounds; final {metric} {rounds[^1].Metric.ToString("F3", CultureInfo.InvariantCulture)}");
return 0;

static void WritePlot(string path, TrainingPlan plan, string metric, List<(int Round, double Loss, double Metric)> rounds)
{
    var plot = new Plot();
    double[] x = rounds.Select(r => (double)r.Round).ToArray();
    var loss = plot.Add.Scatter(x, rounds.Select(r => r.Loss).ToArray());
    loss.LegendText = "test loss (weighted over sites)";
    var value = plot.Add.Scatter(x, rounds.Select(r => r.Metric).ToArray());
    value.LegendText = metric;
    value.LineWidth = 3;
    plot.Title($"{plan.Name} ({plan.Hash[..12]}): federated evaluation per round");
    plot.XLabel("Round");
    plot.ShowLegend(Alignment.UpperRight);
    Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
    plot.SavePng(path, 900, 550);
}

/// <summary>Prints one line per round as it finishes.</summary>
internal sealed class RoundPrinter(TrainingPlan plan, string metric, List<(int Round, double Loss, double Metric)> rounds) : IProgress<RoundReport>
{
    public void Report(RoundReport value)
    {
        RoundRecord r = value.Record;
        double loss = r.DistributedLoss ?? double.NaN;
        double m = r.DistributedMetrics.TryGetValue(metric, out ConfigValue v) ? v.AsDouble() : loss;
        rounds.Add((r.Round, loss, m));
        string line = string.Format(CultureInfo.InvariantCulture, "round {0,2}/{1}  test loss {2:F4}  {3} [bold]{4:F3}[/]  {5} sites trained",
            r.Round, plan.Federation.Rounds, loss, metric, m, r.AggregatedUpdates);
        AnsiConsole.MarkupLine(line + (r.Failures.Count > 0 ? $"  [red]{r.Failures.Count} failures[/]" : ""));
    }
}
