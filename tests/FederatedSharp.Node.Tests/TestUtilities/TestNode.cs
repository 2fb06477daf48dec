using Microsoft.Extensions.Time.Testing;

namespace FederatedSharp.Node.Tests.TestUtilities;

/// <summary>A node home in a fresh temporary directory, on a fake clock, with the Cleveland table registered as 'heart'.</summary>
internal sealed class TestNode : IDisposable
{
    public TestNode(string name = "cleveland", bool registerHeart = true)
    {
        Directory = Path.Combine(Path.GetTempPath(), "fedsharp-node-" + Guid.NewGuid().ToString("N"));
        Clock = new FakeTimeProvider(new DateTimeOffset(2026, 12, 1, 9, 0, 0, TimeSpan.Zero));
        Home = NodeHome.Create(Directory, name, Clock);
        if (registerHeart)
        {
            Home.Datasets.Register("heart", HeartCsv(name));
        }
    }

    public string Directory { get; }

    public FakeTimeProvider Clock { get; }

    public NodeHome Home { get; }

    public static string HeartPlanJson => File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "plans", "heart-disease.plan.json"));

    public static string HeartCsv(string site) => Path.Combine(AppContext.BaseDirectory, "data", "heart-disease", site + ".csv");

    public static JobOffer Offer(string json, string job = "job-1", params string[] datasets) =>
        new(job, json, datasets.Length == 0 ? ["heart"] : datasets, "dr.lee");

    public void Dispose()
    {
        if (System.IO.Directory.Exists(Directory))
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
    }
}
