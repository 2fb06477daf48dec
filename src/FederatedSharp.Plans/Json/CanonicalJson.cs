using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace FederatedSharp.Plans.Json;

/// <summary>
/// The JSON Canonicalization Scheme (RFC 8785): object members sorted by their names' UTF-16 code units, no
/// whitespace, numbers in ECMAScript's shortest form, strings with the minimal escapes. Two documents with the same
/// data give the same bytes whatever their key order, spacing or number spelling, so a hash of these bytes
/// identifies the data. Any tool that implements RFC 8785 (in Python, JavaScript, Go) reproduces a plan's hash.
/// </summary>
public static class CanonicalJson
{
    /// <summary>The canonical UTF-8 bytes of a JSON value.</summary>
    /// <param name="element">The value.</param>
    /// <returns>The bytes.</returns>
    /// <exception cref="ArgumentException">A number is not finite or does not fit a double.</exception>
    public static byte[] Serialize(JsonElement element)
    {
        var builder = new StringBuilder();
        Write(element, builder);
        return Encoding.UTF8.GetBytes(builder.ToString());
    }

    /// <summary>The canonical UTF-8 bytes of a JSON text.</summary>
    /// <param name="json">The text.</param>
    /// <returns>The bytes.</returns>
    /// <exception cref="JsonException">The text is not JSON.</exception>
    public static byte[] Serialize(string json)
    {
        ArgumentNullException.ThrowIfNull(json);
        using JsonDocument document = JsonDocument.Parse(json);
        return Serialize(document.RootElement);
    }

    /// <summary>The lower-case hexadecimal SHA-256 of a value's canonical bytes.</summary>
    /// <param name="element">The value.</param>
    /// <returns>64 hexadecimal digits.</returns>
    public static string Sha256(JsonElement element) => Convert.ToHexStringLower(SHA256.HashData(Serialize(element)));

    /// <summary>An ECMAScript <c>Number.prototype.toString</c> of a double, as RFC 8785 section 3.2.2.3 requires.</summary>
    /// <param name="value">A finite number.</param>
    /// <returns>The text.</returns>
    /// <exception cref="ArgumentException">The number is NaN or infinite.</exception>
    public static string FormatNumber(double value)
    {
        if (!double.IsFinite(value))
        {
            throw new ArgumentException($"JSON has no representation of {value}.", nameof(value));
        }

        if (value == 0)
        {
            return "0";
        }

        // .NET's "R" is the shortest text that round-trips: digits d1..dk and an exponent.
        string shortest = Math.Abs(value).ToString("R", CultureInfo.InvariantCulture);
        (string digits, int n) = Decompose(shortest);
        string sign = value < 0 ? "-" : "";
        int k = digits.Length;
        if (k <= n && n <= 21)
        {
            return sign + digits + new string('0', n - k);
        }

        if (0 < n && n <= 21)
        {
            return sign + digits[..n] + "." + digits[n..];
        }

        if (-6 < n && n <= 0)
        {
            return sign + "0." + new string('0', -n) + digits;
        }

        string exponent = (n - 1) >= 0 ? "+" + (n - 1).ToString(CultureInfo.InvariantCulture) : (n - 1).ToString(CultureInfo.InvariantCulture);
        return sign + digits[0] + (k > 1 ? "." + digits[1..] : "") + "e" + exponent;
    }

    // Splits a round-trip text such as "1.2345E-05" or "123.45" into significant digits and the decimal exponent n
    // of value = 0.d1d2...dk x 10^n.
    private static (string Digits, int N) Decompose(string text)
    {
        int e = text.IndexOfAny(['E', 'e']);
        string mantissa = e < 0 ? text : text[..e];
        int exponent = e < 0 ? 0 : int.Parse(text[(e + 1)..], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture);
        int point = mantissa.IndexOf('.', StringComparison.Ordinal);
        string integral = point < 0 ? mantissa : mantissa[..point];
        string fraction = point < 0 ? "" : mantissa[(point + 1)..];
        string all = integral + fraction;
        int n = integral.Length + exponent;
        int leading = 0;
        while (leading < all.Length - 1 && all[leading] == '0')
        {
            leading++;
        }

        string digits = all[leading..].TrimEnd('0');
        return (digits.Length == 0 ? "0" : digits, n - leading);
    }

    private static void Write(JsonElement element, StringBuilder builder)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                builder.Append('{');
                bool first = true;
                foreach (JsonProperty property in element.EnumerateObject().OrderBy(p => p.Name, StringComparer.Ordinal))
                {
                    if (!first)
                    {
                        builder.Append(',');
                    }

                    first = false;
                    WriteString(property.Name, builder);
                    builder.Append(':');
                    Write(property.Value, builder);
                }

                builder.Append('}');
                break;
            case JsonValueKind.Array:
                builder.Append('[');
                int index = 0;
                foreach (JsonElement item in element.EnumerateArray())
                {
                    if (index++ > 0)
                    {
                        builder.Append(',');
                    }

                    Write(item, builder);
                }

                builder.Append(']');
                break;
            case JsonValueKind.String:
                WriteString(element.GetString()!, builder);
                break;
            case JsonValueKind.Number:
                if (!element.TryGetDouble(out double number) || !double.IsFinite(number))
                {
                    throw new ArgumentException($"The number {element.GetRawText()} does not fit a double.", nameof(element));
                }

                builder.Append(FormatNumber(number));
                break;
            case JsonValueKind.True:
                builder.Append("true");
                break;
            case JsonValueKind.False:
                builder.Append("false");
                break;
            default:
                builder.Append("null");
                break;
        }
    }

    private static void WriteString(string value, StringBuilder builder)
    {
        builder.Append('"');
        foreach (char c in value)
        {
            switch (c)
            {
                case '"': builder.Append("\\\""); break;
                case '\\': builder.Append("\\\\"); break;
                case '\b': builder.Append("\\b"); break;
                case '\f': builder.Append("\\f"); break;
                case '\n': builder.Append("\\n"); break;
                case '\r': builder.Append("\\r"); break;
                case '\t': builder.Append("\\t"); break;
                default:
                    if (c < 0x20)
                    {
                        builder.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
                    }
                    else
                    {
                        builder.Append(c);
                    }

                    break;
            }
        }

        builder.Append('"');
    }
}
