using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text.Json;
using FederatedSharp;
using FederatedSharp.Aggregation;
using FederatedSharp.Clients;
using FederatedSharp.Parameters;

// FederatedSharp's aggregators against the same aggregations written Flower-style in numpy (flower_style.py), on the
// same N x P float32 updates, in one run: median seconds of REPEATS runs after a warm-up, the ratio numpy / ours, and
// the largest difference between the two results. numpy comes from the distribution (apt-get install python3-numpy);
// without it the numpy column is skipped with a message.
// Usage: dotnet run -c Release --project benchmarks/NumpyComparison -- [--clients 11,25] [--parameters 1000000] [--repeats 5] [--python /usr/bin/python3]
int[] clientCounts = { 11, 25 };
int parameters = 1_000_000;
int repeats = 5;
string python = "/usr/bin/python3";
for (int i = 0; i < args.Length; i++)
{
    switch (args[i])
    {
        case "--clients": clientCounts = args[++i].Split(',').Select(s => int.Parse(s, CultureInfo.InvariantCulture)).ToArray(); break;
        case "--parameters": parameters = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
        case "--repeats": repeats = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
        case "--python": python = args[++i]; break;
        default: Console.Error.WriteLine($"Unknown option {args[i]}"); return 2;
    }
}

Console.WriteLine($"{DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC, {Environment.ProcessorCount} cores, .NET {Environment.Version}, {parameters:N0} float32 parameters, median of {repeats} runs");
Console.WriteLine("| N | strategy | FederatedSharp ms | numpy ms | numpy / FederatedSharp | max abs difference |");
Console.WriteLine("|---:|---|---:|---:|---:|---:|");
foreach (int n in clientCounts)
{
    var layout = TensorLayout.Create(new TensorSpec("w", parameters));
    var random = new DeterministicRandom((ulong)n);
    ModelParameters[] models = Enumerable.Range(0, n).Select(_ =>
    {
        ModelParameters p = ModelParameters.CreateUninitialized(layout);
        Span<float> v = p.Values;
        for (int i = 0; i < v.Length; i++)
        {
            v[i] = (float)((random.NextDouble() * 2) - 1);
        }

        return p;
    }).ToArray();
    ClientUpdate[] updates = models.Select((m, c) => new ClientUpdate($"c{c}", m, 10, ConfigRecord.Empty)).ToArray();
    using ModelParameters global = ModelParameters.Create(layout);

    string data = Path.Combine(Path.GetTempPath(), $"fedsharp-numpy-{n}-{Environment.ProcessId}.f32");
    using (FileStream file = File.Create(data))
    {
        foreach (ModelParameters m in models)
        {
            file.Write(MemoryMarshal.AsBytes(m.Values));
        }
    }

    var strategies = new (string Name, string Label, Func<IAggregator> Create)[]
    {
        ("fedavg", "FedAvg", () => new FedAvg()),
        ("median", "FedMedian", () => new FedMedian()),
        ("trimmed", "FedTrimmedAvg (beta 0.2)", () => new FedTrimmedAvg(0.2)),
        ("krum", $"Krum (f = {n / 5})", () => new Krum(n / 5)),
        ("bulyan", $"Bulyan (f = {(n - 3) / 4})", () => new Bulyan((n - 3) / 4)),
    };
    var ours = new Dictionary<string, (double Seconds, float[] Result)>();
    foreach ((string name, _, Func<IAggregator> create) in strategies)
    {
        float[] result = Run(create(), global, updates, n);
        Run(create(), global, updates, n);
        var seconds = new List<double>();
        for (int r = 0; r < repeats; r++)
        {
            long start = Stopwatch.GetTimestamp();
            Aggregate(create(), global, updates, n).Dispose();
            seconds.Add(Stopwatch.GetElapsedTime(start).TotalSeconds);
        }

        ours[name] = (seconds.Order().ElementAt(seconds.Count / 2), result);
    }

    (Dictionary<string, double>? numpy, string? why) = RunNumpy(python, data, n, parameters, repeats);
    foreach ((string name, string label, _) in strategies)
    {
        (double seconds, float[] result) = ours[name];
        string numpyMs = "-", ratio = "-", difference = "-";
        if (numpy is not null)
        {
            numpyMs = (numpy[name] * 1000).ToString("F1", CultureInfo.InvariantCulture);
            ratio = (numpy[name] / seconds).ToString("F1", CultureInfo.InvariantCulture) + "x";
            float[] theirs = MemoryMarshal.Cast<byte, float>(File.ReadAllBytes(data + ".out." + name)).ToArray();
            difference = result.Zip(theirs, (a, b) => Math.Abs(a - b)).Max().ToString("G3", CultureInfo.InvariantCulture);
            File.Delete(data + ".out." + name);
        }

        Console.WriteLine($"| {n} | {label} | {seconds * 1000:F1} | {numpyMs} | {ratio} | {difference} |");
    }

    if (why is not null)
    {
        Console.WriteLine($"numpy skipped: {why}");
    }

    File.Delete(data);
    foreach (ModelParameters m in models)
    {
        m.Dispose();
    }
}

return 0;

static float[] Run(IAggregator aggregator, ModelParameters global, ClientUpdate[] updates, int n)
{
    using ModelParameters result = Aggregate(aggregator, global, updates, n);
    return result.Values.ToArray();
}

// What is timed: one round, from BeginRound to the new model (the numpy side likewise returns its result array).
static ModelParameters Aggregate(IAggregator aggregator, ModelParameters global, ClientUpdate[] updates, int n)
{
    using IRoundAggregator round = aggregator.BeginRound(global, new AggregationContext(1, n, n));
    round.AddRange(updates);
    return round.Complete();
}

static (Dictionary<string, double>? Seconds, string? Why) RunNumpy(string python, string data, int n, int p, int repeats)
{
    string script = Path.Combine(AppContext.BaseDirectory, "flower_style.py");
    if (!File.Exists(python))
    {
        return (null, $"{python} not found");
    }

    var start = new ProcessStartInfo(python) { RedirectStandardOutput = true, RedirectStandardError = true };
    foreach (string a in new[] { script, data, n.ToString(CultureInfo.InvariantCulture), p.ToString(CultureInfo.InvariantCulture), repeats.ToString(CultureInfo.InvariantCulture), data + ".out" })
    {
        start.ArgumentList.Add(a);
    }

    using Process process = Process.Start(start)!;
    string output = process.StandardOutput.ReadToEnd();
    string error = process.StandardError.ReadToEnd();
    process.WaitForExit();
    if (process.ExitCode != 0)
    {
        return (null, error.Contains("No module named 'numpy'", StringComparison.Ordinal) ? "numpy is not installed (apt-get install -y python3-numpy)" : "python3 failed: " + error.Trim());
    }

    using JsonDocument json = JsonDocument.Parse(output);
    return (json.RootElement.GetProperty("seconds").EnumerateObject().ToDictionary(e => e.Name, e => e.Value.GetDouble()), null);
}
