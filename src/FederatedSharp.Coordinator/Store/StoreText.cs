using System.Data.Common;
using System.Text.Json;

namespace FederatedSharp.Coordinator.Store;

/// <summary>How values are stored: enums as snake_case text, times as Unix milliseconds, lists as JSON arrays.</summary>
internal static class StoreText
{
    public static string Of(Enum value) => JsonNamingPolicy.SnakeCaseLower.ConvertName(value.ToString());

    public static T Enum<T>(string text)
        where T : struct, Enum
    {
        foreach (T value in System.Enum.GetValues<T>())
        {
            if (Of(value) == text)
            {
                return value;
            }
        }

        throw new InvalidDataException($"'{text}' is not a stored {typeof(T).Name}.");
    }

    public static string List(IEnumerable<string> values) => JsonSerializer.Serialize(values.ToArray());

    public static IReadOnlyList<string> List(string json) => JsonSerializer.Deserialize<string[]>(json) ?? [];

    public static string Text(this DbDataReader r, string column) => r.GetString(r.GetOrdinal(column));

    public static string? NullableText(this DbDataReader r, string column) => r.IsDBNull(r.GetOrdinal(column)) ? null : r.GetString(r.GetOrdinal(column));

    public static long Long(this DbDataReader r, string column) => Convert.ToInt64(r.GetValue(r.GetOrdinal(column)), System.Globalization.CultureInfo.InvariantCulture);

    public static bool Bool(this DbDataReader r, string column) => r.Long(column) != 0;

    public static double? NullableDouble(this DbDataReader r, string column) =>
        r.IsDBNull(r.GetOrdinal(column)) ? null : Convert.ToDouble(r.GetValue(r.GetOrdinal(column)), System.Globalization.CultureInfo.InvariantCulture);

    public static DateTimeOffset Time(this DbDataReader r, string column) => DateTimeOffset.FromUnixTimeMilliseconds(r.Long(column));

    public static DateTimeOffset? NullableTime(this DbDataReader r, string column) =>
        r.IsDBNull(r.GetOrdinal(column)) ? null : DateTimeOffset.FromUnixTimeMilliseconds(r.Long(column));
}
