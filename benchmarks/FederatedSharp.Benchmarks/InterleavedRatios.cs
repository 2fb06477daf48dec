using System.Diagnostics;
using System.Globalization;
using System.Runtime.Intrinsics;
using FederatedSharp.Aggregation;
using FederatedSharp.Clients;
using FederatedSharp.Parameters;

/// <summary>
/// Every strategy of a cell and the five read bounds, timed in turn in one process, sweep after sweep: each sweep's
/// bound is the fastest of its five passes, and each strategy's ratio is taken against the bound of its own sweep. On a
/// shared machine whose bandwidth drifts by tens of percent within minutes, this is the ratio BenchmarkDotNet cannot
/// give (it times one benchmark after another, minutes apart). Prints the median ratio and its interquartile range.
/// Run: <c>dotnet run -c Release --project benchmarks/FederatedSharp.Benchmarks -- --interleaved [linear|robust] [seconds per cell]</c>.
/// </summary>
internal static class InterleavedRatios
{
    private static readonly (string Name, Func<IReadOnlyList<ReadOnlyMemory<float>>, int, float> Pass)[] Bounds =
    {
        ("A", (inputs, _) => ReadBounds.PerInputSplit(inputs)),
        ("B", (inputs, length) => ReadBounds.Blocked(inputs, length)),
        ("C", (inputs, _) => ReadBounds.InputsAcrossCores(inputs)),
        ("D", (inputs, length) => ReadBounds.RangePerCore(inputs, length)),
        ("E", (inputs, length) => ReadBounds.Interleaved(inputs, length)),
    };

    public static void Run(string[] args)
    {
        string which = args.Length > 1 ? args[1] : "linear";
        double seconds = args.Length > 2 ? double.Parse(args[2], CultureInfo.InvariantCulture) : 20;
        Console.WriteLine($"{DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC, {Environment.ProcessorCount} cores, .NET {Environment.Version}, 512-bit vectors {(Vector512.IsHardwareAccelerated ? "on" : "off")}, {seconds} s a cell");
        Console.WriteLine("| N x P | strategy | median ms | % of read bound (median) | interquartile range | sweeps |");
        Console.WriteLine("|---|---|---:|---:|---:|---:|");
        if (which == "robust")
        {
            foreach (int clients in new[] { 11, 25 })
            {
                Cell(clients, 1_000_000, seconds, RobustStrategies(clients));
            }

            return;
        }

        foreach ((int clients, int parameters) in new[] { (10, 1_000_000), (10, 10_000_000), (100, 1_000_000), (100, 10_000_000) })
        {
            Cell(clients, parameters, seconds, LinearStrategies());
        }
    }

    private static (string, IAggregator, bool)[] LinearStrategies() => new (string, IAggregator, bool)[]
    {
        ("FedAvg, AddRange", new FedAvg(), true),
        ("FedAvg, Add per update (streaming)", new FedAvg(), false),
        ("FedProx, AddRange", new FedProx(0.01), true),
        ("FedAvgM (momentum 0.9)", new FedAvgM(1.0, 0.9), true),
        ("FedAdam", new FedAdam(), true),
        ("FedYogi", new FedYogi(), true),
        ("FedAdagrad", new FedAdagrad(), true),
    };

    private static (string, IAggregator, bool)[] RobustStrategies(int clients) => new (string, IAggregator, bool)[]
    {
        ("FedMedian", new FedMedian(), true),
        ("FedTrimmedAvg (beta 0.2)", new FedTrimmedAvg(0.2), true),
        ($"Krum (f = {clients / 5})", new Krum(clients / 5), true),
        ($"Bulyan (f = {(clients - 3) / 4})", new Bulyan((clients - 3) / 4), true),
    };

    private static void Cell(int clients, int parameters, double seconds, (string Name, IAggregator Aggregator, bool Batched)[] strategies)
    {
        var layout = TensorLayout.Create(new TensorSpec("w", parameters));
        using var global = ModelParameters.Create(layout);
        ClientUpdate[] updates = Enumerable.Range(0, clients).Select(c =>
        {
            ModelParameters p = ModelParameters.CreateUninitialized(layout);
            Span<float> v = p.Values;
            for (int i = 0; i < v.Length; i++)
            {
                v[i] = ((((i * 31) + (c * 17)) % 101) - 50) * 0.01f;
            }

            return new ClientUpdate($"c{c}", p, 10 + (c % 90), ConfigRecord.Empty);
        }).ToArray();
        ReadOnlyMemory<float>[] inputs = updates.Select(u => (ReadOnlyMemory<float>)u.Parameters.Memory).ToArray();
        var runs = new List<(string Name, Action Run)>();
        foreach ((string name, IAggregator aggregator, bool batched) in strategies)
        {
            runs.Add((name, () => Aggregate(aggregator, global, updates, batched)));
        }

        if (strategies.Any(s => s.Aggregator is Krum))
        {
            runs.Add(("Krum's distance pass alone", () => FederatedSharp.Aggregation.Kernels.RobustKernels.PairwiseSquaredDistances(inputs, parameters)));
        }

        // Warm up (JIT, pools, pages), then sweep: the five bounds and every strategy once each, in turn.
        for (int i = 0; i < 3; i++)
        {
            Sweep(inputs, parameters, runs);
        }

        var bounds = new List<double>();
        var ratios = runs.Select(_ => new List<double>()).ToArray();
        var times = runs.Select(_ => new List<double>()).ToArray();
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed.TotalSeconds < seconds)
        {
            (double bound, double[] sweep) = Sweep(inputs, parameters, runs);
            bounds.Add(bound);
            for (int r = 0; r < runs.Count; r++)
            {
                ratios[r].Add(bound / sweep[r]);
                times[r].Add(sweep[r]);
            }
        }

        // The bound's own row: its bandwidth shows when it reads partly from the last-level cache (faster than memory).
        double[] boundTimes = bounds.Order().ToArray();
        double gigabytes = (double)clients * parameters * sizeof(float) / 1e9;
        Console.WriteLine(
            $"| {clients} x {parameters / 1_000_000}M | read bound (fastest of A-E): {gigabytes / Quantile(boundTimes, 0.5) * 1e3:F0} GB/s | {Quantile(boundTimes, 0.5):F2} | 100 % | " +
            $"{gigabytes / Quantile(boundTimes, 0.75) * 1e3:F0} - {gigabytes / Quantile(boundTimes, 0.25) * 1e3:F0} GB/s | {boundTimes.Length} |");
        for (int r = 0; r < runs.Count; r++)
        {
            double[] sorted = ratios[r].Order().ToArray();
            Console.WriteLine(
                $"| {clients} x {parameters / 1_000_000}M | {runs[r].Name} | {Quantile(times[r].Order().ToArray(), 0.5):F2} | {Quantile(sorted, 0.5):P0} | " +
                $"{Quantile(sorted, 0.25):P0} - {Quantile(sorted, 0.75):P0} | {sorted.Length} |");
        }

        foreach (ClientUpdate u in updates)
        {
            u.Parameters.Dispose();
        }
    }

    private static (double Bound, double[] Times) Sweep(ReadOnlyMemory<float>[] inputs, int length, List<(string Name, Action Run)> runs)
    {
        double bound = double.MaxValue;
        foreach ((_, Func<IReadOnlyList<ReadOnlyMemory<float>>, int, float> pass) in Bounds)
        {
            long start = Stopwatch.GetTimestamp();
            pass(inputs, length);
            bound = Math.Min(bound, Stopwatch.GetElapsedTime(start).TotalMilliseconds);
        }

        var times = new double[runs.Count];
        for (int r = 0; r < runs.Count; r++)
        {
            long start = Stopwatch.GetTimestamp();
            runs[r].Run();
            times[r] = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
        }

        return (bound, times);
    }

    private static void Aggregate(IAggregator aggregator, ModelParameters global, ClientUpdate[] updates, bool batched)
    {
        using IRoundAggregator round = aggregator.BeginRound(global, new AggregationContext(1, updates.Length, updates.Length));
        if (batched)
        {
            round.AddRange(updates);
        }
        else
        {
            foreach (ClientUpdate u in updates)
            {
                round.Add(u);
            }
        }

        round.Complete().Dispose();
    }

    private static double Quantile(double[] sorted, double q) => sorted[(int)Math.Round(q * (sorted.Length - 1))];
}
