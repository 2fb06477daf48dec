using BenchmarkDotNet.Running;

// Run all: dotnet run -c Release --project benchmarks/FederatedSharp.Benchmarks -- --filter '*'
// Ratios to the read bound, interleaved in one process: ... -- --interleaved [linear|robust] [seconds per cell]
if (args.Length > 0 && args[0] == "--interleaved")
{
    InterleavedRatios.Run(args);
    return;
}

BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args, new BenchmarkConfig());
