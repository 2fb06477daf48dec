using System.Globalization;
using FederatedSharp.Analytics;
using FederatedSharp.Server;
using FederatedSharp.Transport.InMemory;
using Spectre.Console;
using SurvivalAnalytics;

// Federated survival analysis of Fed-TCGA-BRCA: six regions answer a survival query under their own disclosure
// policy (k = 10, time binned to 90 days), the server pools the Kaplan-Meier curves and tests stage I-II against
// stage IIIA/IIIC with the log-rank test. No patient record leaves a region.
// Usage: dotnet run --project samples/SurvivalAnalytics -- [--bin-days 90] [--k 10] [--plot survival.png]
double binDays = 90;
int k = 10;
string plotPath = "tcga-brca-survival.png";
for (int i = 0; i < args.Length; i++)
{
    string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value.");
    switch (args[i])
    {
        case "--bin-days": binDays = double.Parse(Next(), CultureInfo.InvariantCulture); break;
        case "--k": k = int.Parse(Next(), CultureInfo.InvariantCulture); break;
        case "--plot": plotPath = Next(); break;
        case "--help" or "-h":
            Console.WriteLine("options: --bin-days DAYS (time bins; 0 for exact event times) --k N (minimum count) --plot FILE.png");
            return 0;
        default:
            Console.Error.WriteLine($"Unknown option '{args[i]}' (try --help).");
            return 2;
    }
}

IReadOnlyList<TabularDataset> regions = TcgaBrcaData.LoadRegions();
AnsiConsole.MarkupLine($"[bold]Fed-TCGA-BRCA[/]: {regions.Sum(r => r.RowCount)} patients in {regions.Count} regions; each site enforces k = {k}, " +
    (binDays > 0 ? $"{binDays} day bins" : "exact event times"));

// Each region is a site with its own policy; the server only sends queries.
await using var transport = new InMemoryTransport();
var sites = new List<AnalyticsSite>();
for (int r = 0; r < regions.Count; r++)
{
    var site = new AnalyticsSite(regions[r], new DisclosurePolicy { MinimumCount = k, AllowExactEventTimes = binDays == 0 });
    sites.Add(site);
    transport.AddClient(TcgaBrcaData.Regions[r], new AnalyticsClient(site));
}

// snippet: survival-analysis
FederatedServer server = new FederatedServerBuilder().UseTransport(transport).BuildForQueries();
var request = new SurvivalRequest
{
    TimeColumn = "time",
    EventColumn = "event",
    TimeBins = binDays > 0 ? SurvivalRequest.EqualBins(binDays, 9000) : null,
    GroupColumn = "stage",
    Groups = new[] { new SurvivalGroup(1, "stage I-II"), new SurvivalGroup(2, "stage IIIA/IIIC") },
};
SurvivalReport byStage = await new FederatedSurvival(server).AnalyseAsync(request);
SurvivalReport overall = await new FederatedSurvival(server).AnalyseAsync(new SurvivalRequest
{
    TimeColumn = "time", EventColumn = "event", TimeBins = request.TimeBins,
});
// end snippet

foreach (var failure in byStage.Failures.Concat(overall.Failures))
{
    AnsiConsole.MarkupLine($"[red]{Markup.Escape(failure.ClientId)} refused[/]: {Markup.Escape(failure.Reason)}");
}

var table = new Table().Title("Kaplan-Meier survival, all stages").AddColumn("Site").AddColumn(new TableColumn("Patients").RightAligned())
    .AddColumn(new TableColumn("Events").RightAligned()).AddColumn(new TableColumn("S(1 y)").RightAligned()).AddColumn(new TableColumn("S(3 y)").RightAligned())
    .AddColumn(new TableColumn("S(5 y)").RightAligned()).AddColumn(new TableColumn("Median (days)").RightAligned()).AddColumn("Tail (< k at risk)");
string F(double v) => v.ToString("F3", CultureInfo.InvariantCulture);
void Row(string name, KaplanMeierCurve c) => table.AddRow(Markup.Escape(name), c.Count.ToString("F0", CultureInfo.InvariantCulture),
    c.Points.Sum(p => p.Events).ToString("F0", CultureInfo.InvariantCulture), F(c.SurvivalAt(365)), F(c.SurvivalAt(3 * 365)), F(c.SurvivalAt(5 * 365)),
    c.Median?.ToString("F0", CultureInfo.InvariantCulture) ?? "not reached", c.TruncatedSites.Count == 0 ? "released" : $"withheld by {c.TruncatedSites.Count} site(s)");
foreach ((string site, IReadOnlyList<KaplanMeierCurve> curves) in overall.Sites)
{
    Row(site, curves[0]);
}

Row("[pooled]", overall.Pooled[0]);
AnsiConsole.Write(table);

foreach (KaplanMeierCurve curve in byStage.Pooled)
{
    AnsiConsole.MarkupLine(CultureInfo.InvariantCulture, "{0}: {1:F0} patients, S(5 y) = {2:F3}", Markup.Escape(curve.Group), curve.Count, curve.SurvivalAt(5 * 365));
}

LogRankResult logRank = byStage.LogRank!;
AnsiConsole.MarkupLine(CultureInfo.InvariantCulture, "[bold]Log-rank[/], {0} vs {1}: observed {2:F0}/{3:F0}, expected {4:F1}/{5:F1}, chi2 = {6:F3} ({7} df), [bold]p = {8:G3}[/]",
    logRank.Groups[0], logRank.Groups[1], logRank.Observed[0], logRank.Observed[1], logRank.Expected[0], logRank.Expected[1], logRank.ChiSquared, logRank.DegreesOfFreedom, logRank.PValue);
int suppressed = sites.Sum(s => s.Events.Count);
AnsiConsole.MarkupLine($"The sites' disclosure logs hold {suppressed} entries (suppressions and refusals).");

SurvivalPlot.Write(plotPath, overall, byStage);
AnsiConsole.MarkupLine($"Kaplan-Meier plot written to [link]{Path.GetFullPath(plotPath)}[/]");
AnsiConsole.MarkupLine("Done: federated survival analysis complete.");
return 0;
