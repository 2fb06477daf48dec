using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using FederatedSharp.Clients;
using FederatedSharp.Server;

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

    /// <summary>
    /// Each answer's reply, by client id in the order answered; a reply that does not parse or fails
    /// <paramref name="check"/> (which throws <see cref="FormatException"/>) is that site's rejected failure instead.
    /// </summary>
    public static Dictionary<string, T> ReadAnswers<T>(QueryRoundResult result, JsonTypeInfo<T> type, string what, Action<T, string> check, List<ClientFailure> failures)
    {
        var replies = new Dictionary<string, T>(StringComparer.Ordinal);
        foreach (ClientQueryResult answer in result.Results)
        {
            try
            {
                T reply = Read(answer.Result.Values, type, $"{what} of '{answer.ClientId}'");
                check(reply, answer.ClientId);
                replies[answer.ClientId] = reply;
            }
            catch (FormatException e)
            {
                failures.Add(new ClientFailure(answer.ClientId, RoundPhase.Query, ClientFailureKind.Rejected, e.Message));
            }
        }

        return replies;
    }
}
