using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using FederatedSharp.Clients;

namespace FederatedSharp.Analytics;

/// <summary>Puts a JSON document into a query's record and takes it out again, with clear errors for bad input.</summary>
internal static class Payload
{
    public static ConfigRecord Write<T>(T value, JsonTypeInfo<T> type) =>
        new() { [AnalyticsQueries.PayloadKey] = JsonSerializer.Serialize(value, type) };

    public static T Read<T>(ConfigRecord record, JsonTypeInfo<T> type, string what)
    {
        if (!record.TryGetValue(AnalyticsQueries.PayloadKey, out ConfigValue value) || value.Kind != ConfigValueKind.String)
        {
            throw new FormatException($"The {what} has no '{AnalyticsQueries.PayloadKey}' string.");
        }

        try
        {
            return JsonSerializer.Deserialize(value.AsString(), type) ?? throw new FormatException($"The {what} is JSON null.");
        }
        catch (JsonException e)
        {
            throw new FormatException($"The {what} is not valid JSON: {e.Message}", e);
        }
    }
}
