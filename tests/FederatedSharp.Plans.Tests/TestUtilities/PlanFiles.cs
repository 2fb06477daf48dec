using FederatedSharp.Analytics;

namespace FederatedSharp.Plans.Tests.TestUtilities;

/// <summary>The example plans and the Fed-Heart-Disease site tables shipped with the samples.</summary>
internal static class PlanFiles
{
    public static readonly string[] HeartSites = ["cleveland", "hungary", "switzerland", "va"];

    public static string PlanPath(string name) => Path.Combine(AppContext.BaseDirectory, "plans", name + ".plan.json");

    public static TrainingPlan Load(string name) => TrainingPlan.Load(PlanPath(name));

    public static string Text(string name) => File.ReadAllText(PlanPath(name));

    public static TabularDataset HeartSite(string site)
    {
        string path = Path.Combine(AppContext.BaseDirectory, "data", "heart-disease", site + ".csv");
        string header = File.ReadLines(path).First();
        return TabularDataset.LoadCsv(path, CsvSchema.FromHeader(header.Split(',')));
    }

    public static Dictionary<string, TabularDataset> HeartSites3() => HeartSites.Take(3).ToDictionary(s => s, HeartSite, StringComparer.Ordinal);

    /// <summary>A minimal valid plan as JSON, with <paramref name="edit"/> applied to its text.</summary>
    public static string Minimal(Func<string, string>? edit = null)
    {
        string json = """
        {
          "format": "federatedsharp.plan/v1",
          "name": "tiny",
          "seed": 3,
          "data": { "features": ["a", "b"], "label": { "task": "binary", "column": "y" }, "split": { "testFraction": 0.25 } },
          "model": { "layers": [ { "type": "linear", "in": 2, "out": 1 }, { "type": "sigmoid" } ] },
          "loss": { "type": "bce" },
          "optimizer": { "type": "sgd", "learningRate": 0.1 },
          "training": { "batchSize": 4, "localSteps": 5 },
          "metrics": ["binary_accuracy"],
          "federation": { "strategy": "fedavg", "rounds": 2, "minClients": 2 }
        }
        """;
        return edit is null ? json : edit(json);
    }

    /// <summary>A separable synthetic table: y = 1 when a + b &gt; 0.</summary>
    public static TabularDataset Synthetic(int rows, ulong seed, double shift = 0)
    {
        var random = new DeterministicRandom(seed);
        double[] a = new double[rows], b = new double[rows], y = new double[rows];
        for (int i = 0; i < rows; i++)
        {
            a[i] = (random.NextDouble() * 4) - 2 + shift;
            b[i] = (random.NextDouble() * 4) - 2;
            y[i] = a[i] + b[i] - shift > 0 ? 1 : 0;
        }

        return new TabularDataset(new Dictionary<string, double[]> { ["a"] = a, ["b"] = b, ["y"] = y });
    }
}
