namespace FederatedSharp.Analytics;

/// <summary>
/// A site's table for federated analytics: named numeric columns of equal length, with <see cref="double.NaN"/> for a
/// missing value. It never leaves the site; only what <see cref="AnalyticsSite"/> releases under its
/// <see cref="DisclosurePolicy"/> does.
/// </summary>
public sealed class TabularDataset
{
    private readonly Dictionary<string, double[]> _columns;

    /// <summary>Creates a table from columns (copied).</summary>
    /// <param name="columns">Column name to values; <see cref="double.NaN"/> marks a missing value.</param>
    /// <exception cref="ArgumentException">There are no columns, a name is empty, or the columns differ in length.</exception>
    public TabularDataset(IReadOnlyDictionary<string, double[]> columns)
    {
        ArgumentNullException.ThrowIfNull(columns);
        if (columns.Count == 0)
        {
            throw new ArgumentException("A table needs at least one column.", nameof(columns));
        }

        _columns = new Dictionary<string, double[]>(StringComparer.Ordinal);
        int? length = null;
        foreach ((string name, double[] values) in columns)
        {
            ArgumentException.ThrowIfNullOrEmpty(name, nameof(columns));
            ArgumentNullException.ThrowIfNull(values, nameof(columns));
            if (length is int expected && values.Length != expected)
            {
                throw new ArgumentException($"Column '{name}' has {values.Length} rows; the others have {expected}.", nameof(columns));
            }

            length = values.Length;
            _columns[name] = (double[])values.Clone();
        }

        RowCount = length ?? 0;
        ColumnNames = columns.Keys.ToArray();
    }

    /// <summary>The number of rows.</summary>
    public int RowCount { get; }

    /// <summary>The column names, in the order given.</summary>
    public IReadOnlyList<string> ColumnNames { get; }

    /// <summary>Creates a table from rows.</summary>
    /// <param name="columnNames">The columns' names.</param>
    /// <param name="rows">One value per column per row; null marks a missing value.</param>
    /// <returns>The table.</returns>
    /// <exception cref="ArgumentException">A row's length differs from the number of columns.</exception>
    public static TabularDataset FromRows(IReadOnlyList<string> columnNames, IEnumerable<double?[]> rows)
    {
        ArgumentNullException.ThrowIfNull(columnNames);
        ArgumentNullException.ThrowIfNull(rows);
        var values = columnNames.Select(_ => new List<double>()).ToArray();
        int index = 0;
        foreach (double?[] row in rows)
        {
            if (row.Length != columnNames.Count)
            {
                throw new ArgumentException($"Row {index} has {row.Length} values for {columnNames.Count} columns.", nameof(rows));
            }

            for (int c = 0; c < row.Length; c++)
            {
                values[c].Add(row[c] ?? double.NaN);
            }

            index++;
        }

        return new TabularDataset(columnNames.Select((name, c) => (name, values[c].ToArray())).ToDictionary(p => p.name, p => p.Item2, StringComparer.Ordinal));
    }

    /// <summary>Reads a CSV file with <paramref name="schema"/>.</summary>
    /// <param name="path">The file.</param>
    /// <param name="schema">Which columns to read and how.</param>
    /// <returns>The table.</returns>
    /// <exception cref="InvalidDataException">A cell is neither a number nor a missing-value token, or a column is absent.</exception>
    public static TabularDataset LoadCsv(string path, CsvSchema schema)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(schema);
        using var reader = new StreamReader(path);
        return CsvTableReader.Read(reader, schema, path);
    }

    /// <summary>Whether the table has a column.</summary>
    /// <param name="name">The column's name.</param>
    /// <returns>True when it does.</returns>
    public bool HasColumn(string name) => _columns.ContainsKey(name);

    /// <summary>A column's values.</summary>
    /// <param name="name">The column's name.</param>
    /// <returns>The values (<see cref="double.NaN"/> for missing).</returns>
    /// <exception cref="KeyNotFoundException">The table has no such column.</exception>
    public ReadOnlySpan<double> Column(string name) =>
        _columns.TryGetValue(name, out double[]? values)
            ? values
            : throw new KeyNotFoundException($"The table has no column '{name}' (it has {string.Join(", ", ColumnNames)}).");
}
