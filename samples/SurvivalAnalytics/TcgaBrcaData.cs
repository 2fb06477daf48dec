using System.Globalization;
using FederatedSharp.Analytics;

namespace SurvivalAnalytics;

/// <summary>
/// Loads FLamby's Fed-TCGA-BRCA as six regional sites' tables (FLamby's 1,088 patients: those in its split file; train
/// and test rows together, since analytics use every record). Columns: <c>age</c>, <c>time</c> (days), <c>event</c>
/// (1 = death observed), <c>stage</c> (1 = stage I-II, 2 = stage IIIA or IIIC, missing otherwise: the preprocessed
/// one-hot columns keep no other stage) and <c>center</c>.
/// </summary>
public static class TcgaBrcaData
{
    public static readonly string[] Regions = { "Northeast", "South", "West", "Midwest", "Europe", "Canada" };

    private static readonly string[] EarlyStages = { "tumor_stage_stage i", "tumor_stage_stage ia", "tumor_stage_stage iia", "tumor_stage_stage iib" };

    private static readonly string[] LateStages = { "tumor_stage_stage iiia", "tumor_stage_stage iiic" };

    /// <summary>The folder holding the data files (next to the executable).</summary>
    public static string DefaultDirectory => Path.Combine(AppContext.BaseDirectory, "data");

    /// <summary>The six regions' tables, in FLamby's centre order.</summary>
    public static IReadOnlyList<TabularDataset> LoadRegions(string? directory = null)
    {
        directory ??= DefaultDirectory;
        Dictionary<string, int> regionOfSite = LoadCenters(Path.Combine(directory, "centers.csv"));
        HashSet<string> inSplit = File.ReadLines(Path.Combine(directory, "train_test_split.csv")).Skip(1).Select(l => l.Split(',')[0]).ToHashSet(StringComparer.Ordinal);
        string[] lines = File.ReadAllLines(Path.Combine(directory, "brca.csv"));
        List<string> header = SplitQuoted(lines[0]);
        int Column(string name) => header.IndexOf(name) is >= 0 and var i ? i : throw new InvalidDataException($"brca.csv has no column '{name}'.");
        int age = Column("age_at_index");
        int time = Column("T");
        int evt = Column("E");
        int[] early = EarlyStages.Select(Column).ToArray();
        int[] late = LateStages.Select(Column).ToArray();
        var rows = Regions.Select(_ => new List<double?[]>()).ToArray();
        foreach (string line in lines.Skip(1))
        {
            List<string> cells = SplitQuoted(line);
            string pid = cells[0];
            if (!inSplit.Contains(pid))
            {
                continue;
            }

            string site = pid.Split('-')[1];
            int region = regionOfSite.TryGetValue(site, out int r) ? r : throw new InvalidDataException($"Tissue source site '{site}' of {pid} is not in centers.csv.");
            double? stage = early.Any(c => cells[c] == "1") ? 1 : late.Any(c => cells[c] == "1") ? 2 : null;
            rows[region].Add(new double?[] { Number(cells[age]), Number(cells[time]), Number(cells[evt]), stage, region });
        }

        return rows.Select(r => TabularDataset.FromRows(new[] { "age", "time", "event", "stage", "center" }, r)).ToArray();
    }

    private static double Number(string cell) => double.Parse(cell, CultureInfo.InvariantCulture);

    private static Dictionary<string, int> LoadCenters(string path)
    {
        var map = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (string line in File.ReadLines(path).Skip(1))
        {
            List<string> cells = SplitQuoted(line);
            int region = Array.IndexOf(Regions, cells[^1]);
            if (region >= 0)
            {
                map[cells[0]] = region;
            }
        }

        return map;
    }

    private static List<string> SplitQuoted(string line)
    {
        var cells = new List<string>();
        var cell = new System.Text.StringBuilder();
        bool quoted = false;
        foreach (char ch in line)
        {
            if (ch == '"')
            {
                quoted = !quoted;
            }
            else if (ch == ',' && !quoted)
            {
                cells.Add(cell.ToString());
                cell.Clear();
            }
            else
            {
                cell.Append(ch);
            }
        }

        cells.Add(cell.ToString());
        return cells;
    }
}
