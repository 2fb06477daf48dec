namespace FederatedSharp.Analytics;

/// <summary>One column to read from a CSV file.</summary>
/// <param name="Name">The column's name in the table (and in the header, when the file has one and no position is given).</param>
/// <param name="Position">The zero-based field index; null to find <paramref name="Name"/> in the header.</param>
public sealed record CsvColumn(string Name, int? Position = null);

/// <summary>How <see cref="TabularDataset.LoadCsv"/> reads a CSV file: which columns, the separator, the missing-value tokens.</summary>
public sealed class CsvSchema
{
    /// <summary>Creates a schema.</summary>
    /// <param name="columns">The columns to read.</param>
    /// <exception cref="ArgumentException">There are no columns or two share a name.</exception>
    public CsvSchema(IEnumerable<CsvColumn> columns)
    {
        ArgumentNullException.ThrowIfNull(columns);
        Columns = columns.ToArray();
        if (Columns.Count == 0)
        {
            throw new ArgumentException("A schema needs at least one column.", nameof(columns));
        }

        string? duplicate = Columns.GroupBy(c => c.Name, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1)?.Key;
        if (duplicate is not null)
        {
            throw new ArgumentException($"Column '{duplicate}' appears twice in the schema.", nameof(columns));
        }
    }

    /// <summary>The columns to read.</summary>
    public IReadOnlyList<CsvColumn> Columns { get; }

    /// <summary>Whether the first line is a header (default true).</summary>
    public bool HasHeader { get; init; } = true;

    /// <summary>The field separator (default a comma). Fields may be quoted with double quotes.</summary>
    public char Separator { get; init; } = ',';

    /// <summary>Cells read as missing values (default: empty, <c>?</c>, <c>NA</c>, <c>NaN</c>).</summary>
    public IReadOnlySet<string> MissingValues { get; init; } = new HashSet<string>(StringComparer.OrdinalIgnoreCase) { string.Empty, "?", "NA", "NaN" };

    /// <summary>A schema reading the named header columns.</summary>
    /// <param name="columns">The header names.</param>
    /// <returns>The schema.</returns>
    public static CsvSchema FromHeader(params string[] columns) => new(columns.Select(c => new CsvColumn(c)));
}
