using FederatedSharp.Analytics;
using FederatedSharp.Server;
using FederatedSharp.Transport.InMemory;

namespace FederatedSharp.Tests.TestUtilities;

/// <summary>An in-memory federation of analytics sites behind a server, for the analytics tests.</summary>
public sealed class AnalyticsFederation : IAsyncDisposable
{
    private readonly InMemoryTransport _transport = new();

    public AnalyticsFederation(IReadOnlyList<TabularDataset> tables, Func<int, DisclosurePolicy>? policy = null)
    {
        Sites = tables.Select((t, i) => new AnalyticsSite(t, policy?.Invoke(i) ?? new DisclosurePolicy())).ToArray();
        for (int i = 0; i < Sites.Count; i++)
        {
            _transport.AddClient(SiteId(i), new AnalyticsClient(Sites[i]));
        }

        Server = new FederatedServerBuilder().UseTransport(_transport).BuildForQueries();
    }

    public IReadOnlyList<AnalyticsSite> Sites { get; }

    public FederatedServer Server { get; }

    public static string SiteId(int index) => $"site-{index}";

    public async ValueTask DisposeAsync()
    {
        await _transport.DisposeAsync();
    }
}

/// <summary>The real data sets the analytics tests run on, from the samples' data folders.</summary>
public static class AnalyticsData
{
    private static readonly string[] HeartColumns = { "age", "sex", "cp", "trestbps", "chol", "fbs", "restecg", "thalach", "exang", "oldpeak", "slope", "ca", "thal", "num" };

    private static readonly string[] HeartFiles = { "processed.cleveland.data", "processed.hungarian.data", "processed.switzerland.data", "processed.va.data" };

    public static IReadOnlyList<string> HeartFeatures => HeartColumns;

    /// <summary>Fed-Heart-Disease's four hospitals, raw UCI values with '?' as missing, read through the CSV provider.</summary>
    public static IReadOnlyList<TabularDataset> HeartDisease()
    {
        var schema = new CsvSchema(HeartColumns.Select((name, i) => new CsvColumn(name, i))) { HasHeader = false };
        return HeartFiles.Select(f => TabularDataset.LoadCsv(Path.Combine(AppContext.BaseDirectory, "data", "heart-disease", f), schema)).ToArray();
    }

    /// <summary>Fed-TCGA-BRCA's six regions.</summary>
    public static IReadOnlyList<TabularDataset> TcgaBrca() =>
        SurvivalAnalytics.TcgaBrcaData.LoadRegions(Path.Combine(AppContext.BaseDirectory, "data", "tcga-brca"));

    /// <summary>A column's values over all tables, in site order.</summary>
    public static double[] Pooled(IReadOnlyList<TabularDataset> tables, string column) =>
        tables.SelectMany(t => t.Column(column).ToArray()).ToArray();
}
