using System.Globalization;
using System.Text.Json;

namespace FederatedSharp.Plans.Json;

/// <summary>
/// Reads one JSON object of a plan with its path, records every problem instead of stopping at the first, and
/// reports members it was never asked for (a misspelt key is an error, not silently ignored).
/// </summary>
internal sealed class PlanObject
{
    private readonly JsonElement _element;
    private readonly HashSet<string> _read = new(StringComparer.Ordinal);

    private PlanObject(JsonElement element, string path, List<PlanError> errors)
    {
        _element = element;
        Path = path;
        Errors = errors;
    }

    public string Path { get; }

    public List<PlanError> Errors { get; }

    /// <summary>Wraps <paramref name="element"/> when it is an object; otherwise records an error and returns null.</summary>
    public static PlanObject? From(JsonElement element, string path, List<PlanError> errors)
    {
        if (element.ValueKind != JsonValueKind.Object)
        {
            errors.Add(new PlanError(path, $"must be an object, not {Kind(element)}"));
            return null;
        }

        return new PlanObject(element, path, errors);
    }

    public string Child(string name) => Path + "." + name;

    public void Error(string name, string message) => Errors.Add(new PlanError(Child(name), message));

    public void Error(string message) => Errors.Add(new PlanError(Path, message));

    public IReadOnlyList<string> Keys() => _element.EnumerateObject().Select(p => p.Name).ToArray();

    public bool Has(string name) => _element.TryGetProperty(name, out _);

    public JsonElement? Raw(string name)
    {
        _read.Add(name);
        return _element.TryGetProperty(name, out JsonElement value) ? value : null;
    }

    public string? String(string name, bool required = false, IReadOnlyCollection<string>? allowed = null)
    {
        if (Get(name, required) is not JsonElement value)
        {
            return null;
        }

        if (value.ValueKind != JsonValueKind.String)
        {
            Error(name, $"must be a string, not {Kind(value)}");
            return null;
        }

        string text = value.GetString()!;
        if (allowed is not null && !allowed.Contains(text))
        {
            Error(name, $"'{text}' is not one of: {string.Join(", ", allowed)}");
            return null;
        }

        if (required && text.Length == 0)
        {
            Error(name, "must not be empty");
            return null;
        }

        return text;
    }

    public double? Number(string name, double? min = null, double? max = null, bool minExclusive = false, bool maxExclusive = false, bool required = false)
    {
        if (Get(name, required) is not JsonElement value)
        {
            return null;
        }

        if (value.ValueKind != JsonValueKind.Number || !value.TryGetDouble(out double number) || !double.IsFinite(number))
        {
            Error(name, $"must be a finite number, not {Kind(value)}");
            return null;
        }

        if (min is double lo && (number < lo || (minExclusive && number == lo)))
        {
            Error(name, $"{Format(number)} is out of range: it must be {(minExclusive ? ">" : ">=")} {Format(lo)}");
            return null;
        }

        if (max is double hi && (number > hi || (maxExclusive && number == hi)))
        {
            Error(name, $"{Format(number)} is out of range: it must be {(maxExclusive ? "<" : "<=")} {Format(hi)}");
            return null;
        }

        return number;
    }

    public int? Integer(string name, int min = int.MinValue, int max = int.MaxValue, bool required = false)
    {
        if (Get(name, required) is not JsonElement value)
        {
            return null;
        }

        return ReadInteger(value, Child(name), min, max, Errors);
    }

    public bool? Boolean(string name, bool required = false)
    {
        if (Get(name, required) is not JsonElement value)
        {
            return null;
        }

        if (value.ValueKind is not (JsonValueKind.True or JsonValueKind.False))
        {
            Error(name, $"must be true or false, not {Kind(value)}");
            return null;
        }

        return value.GetBoolean();
    }

    public PlanObject? Object(string name, bool required = false) =>
        Get(name, required) is JsonElement value ? From(value, Child(name), Errors) : null;

    /// <summary>The array's items with their paths; null (and an error) when the member is not an array.</summary>
    public IReadOnlyList<(JsonElement Item, string Path)>? Array(string name, bool required = false, bool nonEmpty = false)
    {
        if (Get(name, required) is not JsonElement value)
        {
            return null;
        }

        if (value.ValueKind != JsonValueKind.Array)
        {
            Error(name, $"must be an array, not {Kind(value)}");
            return null;
        }

        var items = value.EnumerateArray().Select((item, i) => (item, Child(name) + "[" + i.ToString(CultureInfo.InvariantCulture) + "]")).ToArray();
        if (nonEmpty && items.Length == 0)
        {
            Error(name, "must not be empty");
            return null;
        }

        return items;
    }

    public IReadOnlyList<string>? Strings(string name, bool required = false, bool nonEmpty = false)
    {
        if (Array(name, required, nonEmpty) is not { } items)
        {
            return null;
        }

        var result = new List<string>();
        foreach ((JsonElement item, string path) in items)
        {
            if (item.ValueKind != JsonValueKind.String || item.GetString() is not { Length: > 0 } text)
            {
                Errors.Add(new PlanError(path, $"must be a non-empty string, not {Kind(item)}"));
                continue;
            }

            result.Add(text);
        }

        return result.Count == items.Count ? result : null;
    }

    public IReadOnlyList<int>? Integers(string name, int min = int.MinValue, bool required = false, bool nonEmpty = false)
    {
        if (Array(name, required, nonEmpty) is not { } items)
        {
            return null;
        }

        var result = items.Select(i => ReadInteger(i.Item, i.Path, min, int.MaxValue, Errors)).ToArray();
        return result.All(v => v is not null) ? result.Select(v => v!.Value).ToArray() : null;
    }

    /// <summary>Records an error for every member that no reader asked for.</summary>
    public void RejectUnknown()
    {
        foreach (JsonProperty property in _element.EnumerateObject())
        {
            if (!_read.Contains(property.Name))
            {
                Error(property.Name, $"unknown property; this object takes: {string.Join(", ", _read.Order(StringComparer.Ordinal))}");
            }
        }
    }

    public static string Kind(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => "an array",
        JsonValueKind.String => $"the string \"{value.GetString()}\"",
        JsonValueKind.Number => "the number " + value.GetRawText(),
        JsonValueKind.True or JsonValueKind.False => value.GetRawText(),
        JsonValueKind.Null => "null",
        _ => "nothing",
    };

    private static string Format(double value) => value.ToString("G", CultureInfo.InvariantCulture);

    private static int? ReadInteger(JsonElement value, string path, int min, int max, List<PlanError> errors)
    {
        if (value.ValueKind != JsonValueKind.Number || !value.TryGetInt32(out int number))
        {
            errors.Add(new PlanError(path, $"must be a whole number, not {Kind(value)}"));
            return null;
        }

        if (number < min || number > max)
        {
            errors.Add(new PlanError(path, max == int.MaxValue ? $"{number} is out of range: it must be >= {min}" : $"{number} is out of range: it must be between {min} and {max}"));
            return null;
        }

        return number;
    }

    private JsonElement? Get(string name, bool required)
    {
        _read.Add(name);
        if (!_element.TryGetProperty(name, out JsonElement value) || value.ValueKind == JsonValueKind.Null)
        {
            if (required)
            {
                Error(name, "is required");
            }

            return null;
        }

        return value;
    }
}
