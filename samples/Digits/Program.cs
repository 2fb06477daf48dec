using System.Globalization;
using System.Text.Json;
using Digits;
using FederatedSharp.Serialization;
using ScottPlot;
using Spectre.Console;

// Federated 8x8 digits: 20 clients with Dirichlet(0.5) label skew train a small CNN.
// Usage: dotnet run --project samples/Digits -c Release -- [--strategy fedavg|fedprox|fedadam|scaffold|all]
//        [--rounds 50] [--encoding f32|f16|bf16|int8|int4|nf4|sparse] [--topk 0.01] [--seed 1] [--output results.json] [--plot digits.png] [--overhead]
//        --topk F: clients send top-k deltas keeping a fraction F of the values, with error feedback, in the sparse
//        format; the global model goes down in --encoding (default f32).
//        --downlink-topk F: the server sends each client the top-k (fraction F, float16) of the difference between the
//        global model and the model that client holds, keeping what was not sent for later (the sparse format down).
//        --freeze conv1.,conv2.: the clients train only the other parameters and send only those (partial training).
//        --lora R: LoRA of rank R on the classifier, everything else frozen. --pretrain-rounds P: first P rounds of plain
//        FedAvg make a pretrained model; the options apply to the remaining rounds, which start from it.
var options = new DigitsOptions();
string strategies = "all";
string plotPath = "digits-accuracy.png";
string? outputPath = null;
bool overhead = false;
int pretrainRounds = 0;
for (int i = 0; i < args.Length; i++)
{
    string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value.");
    switch (args[i])
    {
        case "--strategy": strategies = Next(); break;
        case "--rounds": options.Rounds = int.Parse(Next(), CultureInfo.InvariantCulture); break;
        case "--seed": options.Seed = ulong.Parse(Next(), CultureInfo.InvariantCulture); break;
        case "--local-steps": options.LocalSteps = int.Parse(Next(), CultureInfo.InvariantCulture); break;
        case "--lr": options.LearningRate = double.Parse(Next(), CultureInfo.InvariantCulture); break;
        case "--encoding":
            options.Encoding = Next() switch
            {
                "f32" => ElementEncoding.Float32,
                "f16" => ElementEncoding.Float16,
                "bf16" => ElementEncoding.BFloat16,
                "int8" => ElementEncoding.Int8,
                "int4" => ElementEncoding.Int4,
                "nf4" => ElementEncoding.NF4,
                "sparse" => null,
                var other => throw new ArgumentException($"Unknown encoding '{other}' (f32, f16, bf16, int8, int4, nf4, sparse)."),
            };
            options.SparseWire = options.Encoding is null;
            break;
        case "--freeze":
            foreach (string pattern in Next().Split(','))
            {
                options.Frozen.Add(pattern);
            }

            break;
        case "--lora": options.LoraRank = int.Parse(Next(), CultureInfo.InvariantCulture); break;
        case "--pretrain-rounds": pretrainRounds = int.Parse(Next(), CultureInfo.InvariantCulture); break;
        case "--topk":
            options.TopKFraction = double.Parse(Next(), CultureInfo.InvariantCulture);
            break;
        case "--downlink-topk":
            options.DownlinkFraction = double.Parse(Next(), CultureInfo.InvariantCulture);
            break;
        case "--output": outputPath = Next(); break;
        case "--plot": plotPath = Next(); break;
        case "--overhead": overhead = true; break;
        default:
            Console.Error.WriteLine($"Unknown option '{args[i]}'.");
            return 2;
    }
}

if (overhead)
{
    (double federated, double plain) = await Overhead.MeasureAsync(options, repetitions: 7);
    AnsiConsole.MarkupLine(CultureInfo.InvariantCulture, "One round, {0} clients x {1} steps (median of 7): federation {2:F1} ms, plain TorchSharp loop {3:F1} ms: overhead [bold]{4:F1}%[/]",
        options.Clients, options.LocalSteps, federated, plain, 100 * ((federated / plain) - 1));
    return 0;
}

if (pretrainRounds > 0)
{
    // A pretrained model to start from: plain FedAvg for the first rounds, on the same clients.
    var plain = new DigitsOptions { Rounds = pretrainRounds, Seed = options.Seed, LocalSteps = options.LocalSteps, LearningRate = options.LearningRate, DataDirectory = options.DataDirectory };
    AnsiConsole.MarkupLine($"[bold]pretraining[/]: {pretrainRounds} rounds of FedAvg");
    DigitsResult pretrained = await DigitsFederation.RunAsync(plain, new ConsoleProgress("pretrain", pretrainRounds));
    options.Initial = FederatedSharp.Parameters.ModelParameters.FromValues(new FederatedSharp.TorchSharp.TorchModelAdapter(DigitsFederation.CreateModel()).Layout, pretrained.FinalValues);
    options.Rounds -= pretrainRounds;
    AnsiConsole.MarkupLine(CultureInfo.InvariantCulture, "pretrained model: test accuracy {0:F3}; the next {1} rounds start from it", pretrained.FinalAccuracy, options.Rounds);
}

string[] names = strategies == "all" ? new[] { "fedavg", "fedprox", "fedadam", "scaffold" } : strategies.Split(',');
var results = new List<DigitsResult>();
foreach (string name in names)
{
    options.Strategy = name;
    AnsiConsole.MarkupLine($"[bold]{name}[/]: {options.Clients} clients, Dirichlet({options.Alpha}), {options.Rounds} rounds, {options.LocalSteps} local steps, encoding {(options.SparseWire ? "sparse" : options.Encoding?.ToString() ?? (options.TopKFraction is null ? "none (in-memory copies)" : "Float32"))}{(options.DownlinkFraction is double d ? $", top-k {d:P0} deltas down" : "")}{(options.TopKFraction is double f ? $" down, top-k {f:P0} deltas up" : "")}");
    DigitsResult result = await DigitsFederation.RunAsync(options, new ConsoleProgress(name, options.Rounds));
    results.Add(result);
}

var table = new Table().AddColumn("strategy").AddColumn(new TableColumn("test accuracy").RightAligned()).AddColumn(new TableColumn("time").RightAligned())
    .AddColumn(new TableColumn("bytes down").RightAligned()).AddColumn(new TableColumn("bytes up").RightAligned()).AddColumn(new TableColumn("bytes per round").RightAligned());
foreach (DigitsResult r in results)
{
    table.AddRow(r.Strategy, r.FinalAccuracy.ToString("F3", CultureInfo.InvariantCulture), $"{r.Elapsed.TotalSeconds:F1} s",
        r.BytesSent.ToString("N0", CultureInfo.InvariantCulture), r.BytesReceived.ToString("N0", CultureInfo.InvariantCulture),
        ((r.BytesSent + r.BytesReceived) / options.Rounds).ToString("N0", CultureInfo.InvariantCulture));
}

AnsiConsole.Write(table);
var plot = new Plot();
foreach (DigitsResult r in results)
{
    var line = plot.Add.Scatter(Enumerable.Range(1, r.Accuracy.Count).Select(x => (double)x).ToArray(), r.Accuracy.ToArray());
    line.LegendText = r.Strategy;
}

plot.Title("Digits, 20 non-IID clients: test accuracy per round");
plot.XLabel("Round");
plot.YLabel("Accuracy");
plot.Axes.SetLimitsY(0, 1);
plot.ShowLegend(Alignment.LowerRight);
plot.SavePng(plotPath, 900, 550);
AnsiConsole.MarkupLine($"Accuracy curves written to {Path.GetFullPath(plotPath)}");
if (outputPath is not null)
{
    File.WriteAllText(outputPath, JsonSerializer.Serialize(results.Select(r => new { r.Strategy, r.FinalAccuracy, r.Accuracy, r.BytesSent, r.BytesReceived, seconds = r.Elapsed.TotalSeconds }), new JsonSerializerOptions { WriteIndented = true }));
}

return 0;

internal sealed class ConsoleProgress(string name, int rounds) : IProgress<(int Round, double Accuracy)>
{
    public void Report((int Round, double Accuracy) value) =>
        AnsiConsole.MarkupLine(CultureInfo.InvariantCulture, "  {0} round {1,2}/{2}: test accuracy {3:F3}", name, value.Round, rounds, value.Accuracy);
}
