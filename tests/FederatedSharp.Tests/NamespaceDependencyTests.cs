using System.Text.RegularExpressions;

namespace FederatedSharp.Tests;

/// <summary>
/// The simulation sits on top of the SDK: no other namespace of the package may depend on it. Unsafe code stays in the
/// aggregation kernels.
/// </summary>
public partial class NamespaceDependencyTests
{
    private static string Source()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "FederatedSharp.sln")))
            {
                return Path.Combine(dir.FullName, "src");
            }
        }

        throw new DirectoryNotFoundException("FederatedSharp.sln not found above the test's folder.");
    }

    [GeneratedRegex(@"\bunsafe\b")]
    private static partial Regex UnsafeKeyword();

    // Pointers are allowed for what spans cannot express (non-temporal stores), in the aggregation kernels only.
    [Test]
    public void SourceFiles_OutsideTheAggregationKernels_HaveNoUnsafeCode()
    {
        string src = Source();
        string kernels = Path.Combine(src, "FederatedSharp", "Aggregation", "Kernels") + Path.DirectorySeparatorChar;
        var files = Directory.EnumerateFiles(src, "*.cs", SearchOption.AllDirectories).ToList();
        var offenders = files
            .Where(f => !f.StartsWith(kernels, StringComparison.Ordinal))
            .Where(f => File.ReadLines(f).Any(line => !line.TrimStart().StartsWith("//", StringComparison.Ordinal) && UnsafeKeyword().IsMatch(line)))
            .Select(f => Path.GetRelativePath(src, f))
            .ToList();

        Assert.That(files.Count(f => f.StartsWith(kernels, StringComparison.Ordinal) && File.ReadAllText(f).Contains("unsafe ", StringComparison.Ordinal)), Is.GreaterThan(0), "the scan sees the kernels' unsafe code");
        Assert.That(offenders, Is.Empty, "unsafe code is confined to src/FederatedSharp/Aggregation/Kernels");
    }

    [GeneratedRegex(@"\bFederatedSharp\.Simulation\b")]
    private static partial Regex SimulationReference();

    [Test]
    public void SourceFiles_OutsideSimulation_DoNotReferenceTheSimulationNamespace()
    {
        string src = Source();
        string simulation = Path.Combine(src, "FederatedSharp", "Simulation") + Path.DirectorySeparatorChar;
        var offenders = Directory.EnumerateFiles(src, "*.cs", SearchOption.AllDirectories)
            .Where(f => !f.StartsWith(simulation, StringComparison.Ordinal))
            .Where(f => File.ReadLines(f).Any(line => !line.TrimStart().StartsWith("///", StringComparison.Ordinal) && SimulationReference().IsMatch(line)))
            .Select(f => Path.GetRelativePath(src, f))
            .ToList();

        Assert.That(offenders, Is.Empty, "Server, Transport, Aggregation, Privacy, TorchSharp and gRPC must not depend on Simulation (DeterministicRandom lives in the root namespace)");
    }
}
