using FederatedSharp.Analytics;

namespace FederatedSharp.Node;

/// <summary>A dataset registered at a node: a CSV file with a header, known by name. Only the name leaves the site.</summary>
/// <param name="Name">The name jobs ask for, for example <c>heart</c>.</param>
/// <param name="Path">The CSV file's full path.</param>
/// <param name="Columns">The header's column names.</param>
/// <param name="Rows">The data rows when it was registered.</param>
/// <param name="RegisteredAt">When it was registered.</param>
public sealed record RegisteredDataset(string Name, string Path, IReadOnlyList<string> Columns, int Rows, DateTimeOffset RegisteredAt);

/// <summary>The node's datasets, kept in <c>datasets.json</c> in the node's home.</summary>
public sealed class DatasetRegistry
{
    private readonly string _file;
    private readonly TimeProvider _time;

    /// <summary>Opens the registry.</summary>
    /// <param name="file">The registry file.</param>
    /// <param name="timeProvider">The clock for registration times.</param>
    public DatasetRegistry(string file, TimeProvider timeProvider)
    {
        ArgumentException.ThrowIfNullOrEmpty(file);
        ArgumentNullException.ThrowIfNull(timeProvider);
        _file = file;
        _time = timeProvider;
    }

    /// <summary>Every registered dataset, by name.</summary>
    /// <returns>The datasets.</returns>
    public IReadOnlyList<RegisteredDataset> List() => Read().Values.OrderBy(d => d.Name, StringComparer.Ordinal).ToArray();

    /// <summary>A dataset by name; null when none is registered under it.</summary>
    /// <param name="name">The name.</param>
    /// <returns>The dataset, or null.</returns>
    public RegisteredDataset? Find(string name) => Read().GetValueOrDefault(name);

    /// <summary>Registers (or re-registers) a CSV file under a name, after reading it once to check it.</summary>
    /// <param name="name">The name.</param>
    /// <param name="csvPath">The file; its first line is the header and every other cell a number or a missing value.</param>
    /// <returns>The registered dataset.</returns>
    /// <exception cref="ArgumentException">The name is not letters, digits, '-', '_' or '.'.</exception>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="InvalidDataException">The file is not a numeric CSV with a header.</exception>
    public RegisteredDataset Register(string name, string csvPath)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentException.ThrowIfNullOrEmpty(csvPath);
        if (!name.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.'))
        {
            throw new ArgumentException($"'{name}' is not a dataset name: use letters, digits, '-', '_' and '.'.", nameof(name));
        }

        string path = System.IO.Path.GetFullPath(csvPath);
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"No file at {path}.", path);
        }

        TabularDataset table = LoadTable(path);
        var dataset = new RegisteredDataset(name, path, table.ColumnNames, table.RowCount, _time.GetUtcNow());
        Dictionary<string, RegisteredDataset> all = Read();
        all[name] = dataset;
        NodeJson.Write(_file, all);
        return dataset;
    }

    /// <summary>Reads a registered dataset's table.</summary>
    /// <param name="name">The name.</param>
    /// <returns>The table.</returns>
    /// <exception cref="KeyNotFoundException">No dataset has that name.</exception>
    /// <exception cref="InvalidDataException">The file no longer reads as a numeric CSV.</exception>
    public TabularDataset Load(string name) =>
        Find(name) is { } dataset ? LoadTable(dataset.Path) : throw new KeyNotFoundException($"This node has no dataset named '{name}'.");

    private static TabularDataset LoadTable(string path)
    {
        string? header = File.ReadLines(path).FirstOrDefault();
        if (string.IsNullOrWhiteSpace(header))
        {
            throw new InvalidDataException($"{path} has no header line.");
        }

        return TabularDataset.LoadCsv(path, CsvSchema.FromHeader(header.Split(',').Select(c => c.Trim().Trim('"')).ToArray()));
    }

    private Dictionary<string, RegisteredDataset> Read() =>
        NodeJson.Read(_file, () => new Dictionary<string, RegisteredDataset>(StringComparer.Ordinal));
}
