// Overhead of a secure aggregation round (Bonawitz et al. 2017) against a plain FedAvg round, same clients, same
// in-memory transport, measured in the same run. Clients "train" instantly, so the figures are the protocol's cost.
// Usage: dotnet run -c Release --project benchmarks/SecureAggregation -- [--params N] [--clients 10,100] [--repeats R] [--neighbours K]
using System.Diagnostics;
using System.Globalization;
using FederatedSharp.Aggregation;
using FederatedSharp.Clients;
using FederatedSharp.Parameters;
using FederatedSharp.Privacy.SecureAggregation;
using FederatedSharp.Server;
using FederatedSharp.Transport.InMemory;

int parameters = 1_000_000;
int[] clientCounts = [10, 100];
int repeats = 3;
int? neighbours = null;
for (int i = 0; i < args.Length; i++)
{
    switch (args[i])
    {
        case "--params": parameters = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
        case "--clients": clientCounts = args[++i].Split(',').Select(s => int.Parse(s, CultureInfo.InvariantCulture)).ToArray(); break;
        case "--repeats": repeats = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
        case "--neighbours": neighbours = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
        default: Console.Error.WriteLine($"unknown argument {args[i]}"); return 2;
    }
}

var layout = TensorLayout.Create(new TensorSpec("w", [parameters]));
Console.WriteLine($"{parameters:N0} parameters, {Environment.ProcessorCount} cores; median of {repeats} rounds after a warm-up; "
    + (neighbours is null ? "every client masks against all others (Bonawitz et al.)" : $"SecAgg+ with {neighbours} neighbours"));
Console.WriteLine();
Console.WriteLine("| clients | plain FedAvg round (s) | secure round (s) | overhead | client upload plain / secure (MB) |");
Console.WriteLine("|---:|---:|---:|---:|---:|");
foreach (int n in clientCounts)
{
    var plainTimes = new List<double>();
    var secureTimes = new List<double>();
    using ModelParameters global = ModelParameters.Create(layout);
    for (int r = 0; r <= repeats; r++)
    {
        await using (var transport = new InMemoryTransport(new InMemoryTransportOptions { MaxConcurrency = Environment.ProcessorCount }))
        {
            for (int c = 0; c < n; c++)
            {
                transport.AddClient($"c{c:D3}", new Shift(c));
            }

            var watch = Stopwatch.StartNew();
            using FederationResult plain = await new FederatedServerBuilder().UseTransport(transport).UseAggregator(new FedAvg()).WithInitialParameters(global)
                .Configure(o => { o.Rounds = 1; o.MinAvailableClients = n; o.MinFitClients = n; o.FractionEvaluate = 0; })
                .Build().RunAsync();
            if (r > 0)
            {
                plainTimes.Add(watch.Elapsed.TotalSeconds);
            }
        }

        // Every client of the round must be able to run at once: its state waits between phases, not its thread.
        await using (var transport = new InMemoryTransport(new InMemoryTransportOptions { MaxConcurrency = n }))
        {
            for (int c = 0; c < n; c++)
            {
                transport.AddClient($"c{c:D3}", new SecureAggregationClient($"c{c:D3}", new Shift(c)));
            }

            var watch = Stopwatch.StartNew();
            using SecureAggregationResult secure = await new SecureAggregationServer(new SecureAggregationOptions { Neighbours = neighbours }).RunRoundAsync(transport, transport.GetAvailableClients(), r + 1, global);
            if (r > 0)
            {
                secureTimes.Add(watch.Elapsed.TotalSeconds);
            }
        }
    }

    double p = Median(plainTimes), s = Median(secureTimes);
    Console.WriteLine($"| {n} | {p:F2} | {s:F2} | {s / p:F1}x | {4.0 * parameters / 1e6:F1} / {8.0 * (parameters + 1) / 1e6:F1} |");
}

return 0;

static double Median(List<double> values)
{
    values.Sort();
    return values.Count % 2 == 1 ? values[values.Count / 2] : (values[values.Count / 2 - 1] + values[values.Count / 2]) / 2;
}

/// <summary>Adds a small client-specific constant: training that costs nothing.</summary>
sealed class Shift(int index) : IClient
{
    public Task<ConfigRecord> GetPropertiesAsync(CancellationToken cancellationToken = default) => Task.FromResult(ConfigRecord.Empty);

    public Task<FitResult> FitAsync(FitInstructions instructions, CancellationToken cancellationToken = default)
    {
        ModelParameters p = instructions.Parameters.Clone();
        System.Numerics.Tensors.TensorPrimitives.Add(p.Values, 0.001f * (index % 7), p.Values);
        return Task.FromResult(new FitResult(p, 10 + index));
    }

    public Task<EvaluateResult> EvaluateAsync(EvaluateInstructions instructions, CancellationToken cancellationToken = default) =>
        Task.FromResult(new EvaluateResult(0, 1));
}
