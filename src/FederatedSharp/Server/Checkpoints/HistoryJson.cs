using System.Globalization;
using System.Text.Json;
using FederatedSharp.Clients;

namespace FederatedSharp.Server.Checkpoints;

/// <summary>Lossless JSON form of a <see cref="History"/> (numbers as round-trip strings, so NaN and every bit survive).</summary>
internal static class HistoryJson
{
    public static byte[] Write(History history)
    {
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream))
        {
            w.WriteStartObject();
            w.WriteStartArray("rounds");
            foreach (RoundRecord r in history.Rounds)
            {
                w.WriteStartObject();
                w.WriteNumber("round", r.Round);
                w.WriteBoolean("succeeded", r.Succeeded);
                w.WriteString("failureReason", r.FailureReason);
                WriteStrings(w, "fitClients", r.FitClients);
                w.WriteNumber("aggregatedUpdates", r.AggregatedUpdates);
                WriteRecord(w, "fitMetrics", r.FitMetrics);
                WriteRecord(w, "aggregatorMetrics", r.AggregatorMetrics);
                WriteStrings(w, "evaluateClients", r.EvaluateClients);
                WriteDouble(w, "distributedLoss", r.DistributedLoss);
                WriteRecord(w, "distributedMetrics", r.DistributedMetrics);
                WriteDouble(w, "centralizedLoss", r.CentralizedLoss);
                WriteRecord(w, "centralizedMetrics", r.CentralizedMetrics);
                w.WriteString("centralizedEvaluationError", r.CentralizedEvaluationError);
                w.WriteStartArray("failures");
                foreach (ClientFailure f in r.Failures)
                {
                    w.WriteStartObject();
                    w.WriteString("clientId", f.ClientId);
                    w.WriteString("phase", f.Phase.ToString());
                    w.WriteString("kind", f.Kind.ToString());
                    w.WriteString("reason", f.Reason);
                    w.WriteEndObject();
                }

                w.WriteEndArray();
                w.WriteNumber("durationTicks", r.Duration.Ticks);
                w.WriteStartArray("fitResults");
                foreach (ClientFitMetrics m in r.FitResults)
                {
                    w.WriteStartObject();
                    w.WriteString("clientId", m.ClientId);
                    w.WriteNumber("examples", m.ExampleCount);
                    WriteRecord(w, "metrics", m.Metrics);
                    w.WriteEndObject();
                }

                w.WriteEndArray();
                w.WriteStartArray("evaluateResults");
                foreach (ClientEvaluateMetrics m in r.EvaluateResults)
                {
                    w.WriteStartObject();
                    w.WriteString("clientId", m.ClientId);
                    w.WriteNumber("examples", m.ExampleCount);
                    WriteDouble(w, "loss", m.Loss);
                    WriteRecord(w, "metrics", m.Metrics);
                    w.WriteEndObject();
                }

                w.WriteEndArray();
                w.WriteEndObject();
            }

            w.WriteEndArray();
            w.WriteEndObject();
        }

        return stream.ToArray();
    }

    public static History Read(ReadOnlySpan<byte> json)
    {
        var history = new History();
        using JsonDocument document = JsonDocument.Parse(json.ToArray());
        foreach (JsonElement r in document.RootElement.GetProperty("rounds").EnumerateArray())
        {
            history.Add(new RoundRecord
            {
                Round = r.GetProperty("round").GetInt32(),
                Succeeded = r.GetProperty("succeeded").GetBoolean(),
                FailureReason = r.GetProperty("failureReason").GetString(),
                FitClients = ReadStrings(r.GetProperty("fitClients")),
                AggregatedUpdates = r.GetProperty("aggregatedUpdates").GetInt32(),
                FitMetrics = ReadRecord(r.GetProperty("fitMetrics")),
                AggregatorMetrics = ReadRecord(r.GetProperty("aggregatorMetrics")),
                EvaluateClients = ReadStrings(r.GetProperty("evaluateClients")),
                DistributedLoss = ReadDouble(r.GetProperty("distributedLoss")),
                DistributedMetrics = ReadRecord(r.GetProperty("distributedMetrics")),
                CentralizedLoss = ReadDouble(r.GetProperty("centralizedLoss")),
                CentralizedMetrics = ReadRecord(r.GetProperty("centralizedMetrics")),
                CentralizedEvaluationError = r.GetProperty("centralizedEvaluationError").GetString(),
                Failures = r.GetProperty("failures").EnumerateArray().Select(f => new ClientFailure(
                    f.GetProperty("clientId").GetString()!,
                    Enum.Parse<RoundPhase>(f.GetProperty("phase").GetString()!),
                    Enum.Parse<ClientFailureKind>(f.GetProperty("kind").GetString()!),
                    f.GetProperty("reason").GetString()!)).ToList(),
                Duration = TimeSpan.FromTicks(r.GetProperty("durationTicks").GetInt64()),
                FitResults = r.TryGetProperty("fitResults", out JsonElement fit)
                    ? fit.EnumerateArray().Select(m => new ClientFitMetrics(m.GetProperty("clientId").GetString()!, m.GetProperty("examples").GetInt64(), ReadRecord(m.GetProperty("metrics")))).ToArray()
                    : Array.Empty<ClientFitMetrics>(),
                EvaluateResults = r.TryGetProperty("evaluateResults", out JsonElement evaluate)
                    ? evaluate.EnumerateArray().Select(m => new ClientEvaluateMetrics(m.GetProperty("clientId").GetString()!, m.GetProperty("examples").GetInt64(),
                        ReadDouble(m.GetProperty("loss")) ?? double.NaN, ReadRecord(m.GetProperty("metrics")))).ToArray()
                    : Array.Empty<ClientEvaluateMetrics>(),
            });
        }

        return history;
    }

    public static void WriteRecord(Utf8JsonWriter w, string name, ConfigRecord record)
    {
        w.WriteStartObject(name);
        foreach ((string key, ConfigValue value) in record.OrderBy(p => p.Key, StringComparer.Ordinal))
        {
            w.WriteStartObject(key);
            w.WriteString("kind", value.Kind.ToString());
            w.WriteString("value", value.Kind == ConfigValueKind.Bytes ? Convert.ToBase64String(value.AsBytes().Span) : value.ToString());
            w.WriteEndObject();
        }

        w.WriteEndObject();
    }

    public static ConfigRecord ReadRecord(JsonElement element)
    {
        var record = new ConfigRecord();
        foreach (JsonProperty p in element.EnumerateObject())
        {
            string text = p.Value.GetProperty("value").GetString()!;
            record[p.Name] = Enum.Parse<ConfigValueKind>(p.Value.GetProperty("kind").GetString()!) switch
            {
                ConfigValueKind.Boolean => text == "true",
                ConfigValueKind.Int64 => long.Parse(text, CultureInfo.InvariantCulture),
                ConfigValueKind.Double => double.Parse(text, CultureInfo.InvariantCulture),
                ConfigValueKind.String => text,
                _ => Convert.FromBase64String(text),
            };
        }

        return record.Freeze();
    }

    private static void WriteStrings(Utf8JsonWriter w, string name, IReadOnlyList<string> values)
    {
        w.WriteStartArray(name);
        foreach (string v in values)
        {
            w.WriteStringValue(v);
        }

        w.WriteEndArray();
    }

    private static string[] ReadStrings(JsonElement element) => element.EnumerateArray().Select(e => e.GetString()!).ToArray();

    private static void WriteDouble(Utf8JsonWriter w, string name, double? value)
    {
        if (value is { } v)
        {
            w.WriteString(name, v.ToString("R", CultureInfo.InvariantCulture));
        }
        else
        {
            w.WriteNull(name);
        }
    }

    private static double? ReadDouble(JsonElement element) =>
        element.ValueKind == JsonValueKind.Null ? null : double.Parse(element.GetString()!, CultureInfo.InvariantCulture);
}
