using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Encodings.Web;

namespace FederatedSharp.Coordinator.Dashboard;

/// <summary>
/// A piece of HTML that is safe to write: built from an interpolated string whose holes are HTML-encoded unless they
/// are <see cref="Html"/> themselves, so a page cannot forget to encode a node's name or a plan's text.
/// </summary>
internal readonly struct Html
{
    private Html(string value) => Value = value;

    public string Value { get; }

    public static Html Empty => new("");

    /// <summary>HTML built by interpolation, every non-<see cref="Html"/> hole encoded.</summary>
    public static Html Of(ref HtmlHandler handler) => new(handler.ToStringAndClear());

    /// <summary>Markup known to be safe (a literal of this assembly).</summary>
    public static Html Raw(string markup) => new(markup);

    /// <summary>Encoded text.</summary>
    public static Html Text(string? text) => new(HtmlEncoder.Default.Encode(text ?? ""));

    public static Html Join(IEnumerable<Html> parts) => new(string.Concat(parts.Select(p => p.Value)));

    public static Html When(bool condition, Html html) => condition ? html : Empty;

    public override string ToString() => Value;
}

/// <summary>The interpolated-string handler behind <see cref="Html.Of"/>.</summary>
[InterpolatedStringHandler]
internal ref struct HtmlHandler
{
    private StringBuilder _builder;

    public HtmlHandler(int literalLength, int formattedCount) => _builder = new StringBuilder(literalLength + (formattedCount * 16));

    public readonly void AppendLiteral(string literal) => _builder.Append(literal);

    public readonly void AppendFormatted(Html html) => _builder.Append(html.Value);

    public readonly void AppendFormatted(IEnumerable<Html> parts)
    {
        foreach (Html part in parts)
        {
            _builder.Append(part.Value);
        }
    }

    public readonly void AppendFormatted(string? text) => _builder.Append(HtmlEncoder.Default.Encode(text ?? ""));

    public readonly void AppendFormatted<T>(T value) => AppendFormatted(value, null);

    public readonly void AppendFormatted<T>(T value, string? format)
    {
        switch (value)
        {
            case Html html:
                AppendFormatted(html);
                break;
            case IEnumerable<Html> parts:
                AppendFormatted(parts);
                break;
            default:
                _builder.Append(HtmlEncoder.Default.Encode(value is IFormattable f ? f.ToString(format, CultureInfo.InvariantCulture) : value?.ToString() ?? ""));
                break;
        }
    }

    public string ToStringAndClear()
    {
        string s = _builder.ToString();
        _builder = null!;
        return s;
    }
}
