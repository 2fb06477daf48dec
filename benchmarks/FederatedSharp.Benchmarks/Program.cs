using BenchmarkDotNet.Running;

// Run all: dotnet run -c Release --project benchmarks/FederatedSharp.Benchmarks -- --filter '*'
BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args, new BenchmarkConfig());
