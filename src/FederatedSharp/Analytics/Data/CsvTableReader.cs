using System.Globalization;
using System.Text;

namespace FederatedSharp.Analytics;

/// <summary>Reads a CSV stream into a <see cref="TabularDataset"/> (RFC 4180 quoting, one record per line).</summary>
internal static class CsvTableReader
{
    public static TabularDataset Read(TextReader reader, CsvSchema schema, string source)
    {
        int[] positions;
        int line = 0;
        if (schema.HasHeader)
        {
            string header = reader.ReadLine() ?? throw new InvalidDataException($"{source}: the file is empty; a header was expected.");
            line++;
            List<string> names = Split(header, schema.Separator);
            positions = schema.Columns.Select(c => c.Position ?? IndexOf(names, c.Name, source)).ToArray();
        }
        else
        {
            positions = schema.Columns.Select(c => c.Position ?? throw new InvalidDataException($"{source}: column '{c.Name}' needs a position, the file has no header.")).ToArray();
        }

        var values = schema.Columns.Select(_ => new List<double>()).ToArray();
        while (reader.ReadLine() is { } text)
        {
            line++;
            if (text.Length == 0)
            {
                continue;
            }

            List<string> cells = Split(text, schema.Separator);
            for (int c = 0; c < positions.Length; c++)
            {
                if (positions[c] >= cells.Count)
                {
                    throw new InvalidDataException($"{source} line {line}: {cells.Count} fields, column '{schema.Columns[c].Name}' is field {positions[c]}.");
                }

                string cell = cells[positions[c]].Trim();
                if (schema.MissingValues.Contains(cell))
                {
                    values[c].Add(double.NaN);
                }
                else if (double.TryParse(cell, NumberStyles.Float, CultureInfo.InvariantCulture, out double number))
                {
                    values[c].Add(number);
                }
                else
                {
                    throw new InvalidDataException($"{source} line {line}: column '{schema.Columns[c].Name}' holds '{cell}', which is neither a number nor a missing-value token.");
                }
            }
        }

        return new TabularDataset(schema.Columns.Select((col, c) => (col.Name, values[c].ToArray())).ToDictionary(p => p.Name, p => p.Item2, StringComparer.Ordinal));
    }

    private static int IndexOf(List<string> names, string name, string source)
    {
        int index = names.IndexOf(name);
        return index >= 0 ? index : throw new InvalidDataException($"{source}: the header has no column '{name}'.");
    }

    private static List<string> Split(string line, char separator)
    {
        var cells = new List<string>();
        var cell = new StringBuilder();
        bool quoted = false;
        for (int i = 0; i < line.Length; i++)
        {
            char ch = line[i];
            if (quoted)
            {
                if (ch == '"' && i + 1 < line.Length && line[i + 1] == '"')
                {
                    cell.Append('"');
                    i++;
                }
                else if (ch == '"')
                {
                    quoted = false;
                }
                else
                {
                    cell.Append(ch);
                }
            }
            else if (ch == '"')
            {
                quoted = true;
            }
            else if (ch == separator)
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
