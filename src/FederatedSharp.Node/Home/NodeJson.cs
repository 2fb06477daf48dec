using System.Text.Json;
using System.Text.Json.Serialization;

namespace FederatedSharp.Node;

/// <summary>How the node's files are written: indented camel-case JSON, enums as strings; written atomically.</summary>
internal static class NodeJson
{
    public static readonly JsonSerializerOptions Options = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower) },
    };

    public static T Read<T>(string path, Func<T> missing)
    {
        if (!File.Exists(path))
        {
            return missing();
        }

        try
        {
            return JsonSerializer.Deserialize<T>(File.ReadAllText(path), Options) ?? missing();
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{path} is not a valid node file: {e.Message}", e);
        }
    }

    /// <summary>Writes through a temporary file and a rename, so a crash never leaves half a file.</summary>
    public static void Write<T>(string path, T value)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        string temporary = path + ".tmp";
        File.WriteAllText(temporary, JsonSerializer.Serialize(value, Options));
        File.Move(temporary, path, overwrite: true);
    }
}
