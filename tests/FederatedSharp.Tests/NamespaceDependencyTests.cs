using System.Text.RegularExpressions;

namespace FederatedSharp.Tests;

/// <summary>The simulation sits on top of the SDK: no other namespace of the package may depend on it.</summary>
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
