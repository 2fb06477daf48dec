using System.Globalization;
using FederatedSharp.Coordinator.Store;

namespace FederatedSharp.Coordinator.Dashboard;

/// <summary>Small pieces the views share: badges, progress, times, tables.</summary>
internal static class Widgets
{
    public static Html Badge(Enum status) => Html.Of($"""<span class="badge {StoreText.Of(status)}">{StoreText.Of(status).Replace('_', ' ')}</span>""");

    public static Html Badge(string text, string kind) => Html.Of($"""<span class="badge {kind}">{text}</span>""");

    /// <summary>A job's round progress: a counter and a bar.</summary>
    public static Html Progress(string jobId, int done, int total) => Html.Of($"""
        <div class="progress" data-job="{jobId}">
          <progress value="{Math.Min(done, Math.Max(total, 1))}" max="{Math.Max(total, 1)}" aria-label="round progress"></progress>
          <span class="round-counter">Round <span class="rounds-done">{done}</span> of {total}</span>
        </div>
        """);

    public static Html Time(DateTimeOffset? time) => time is not DateTimeOffset t ? Html.Raw("<span class=\"muted\">never</span>")
        : Html.Of($"""<time datetime="{t.UtcDateTime.ToString("O", CultureInfo.InvariantCulture)}">{t.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture)} UTC</time>""");

    public static Html Table(string[] headers, IEnumerable<Html> rows, string empty, string? id = null)
    {
        Html[] body = rows.ToArray();
        if (body.Length == 0)
        {
            return Html.Of($"""<p class="muted"{Html.Raw(id is null ? "" : $" id=\"{id}\"")}>{empty}</p>""");
        }

        return Html.Of($"""
            <div class="table-wrap"><table{Html.Raw(id is null ? "" : $" id=\"{id}\"")}>
              <thead><tr>{headers.Select(h => Html.Of($"<th scope=\"col\">{h}</th>"))}</tr></thead>
              <tbody>{body}</tbody>
            </table></div>
            """);
    }

    public static Html Number(double? value, string format = "G4") =>
        value is double v ? Html.Text(v.ToString(format, CultureInfo.InvariantCulture)) : Html.Raw("<span class=\"muted\">–</span>");

    public static Html Card(string title, Html value, string? id = null) =>
        Html.Of($"""<div class="card"{Html.Raw(id is null ? "" : $" id=\"{id}\"")}><div class="card-title">{title}</div><div class="card-value">{value}</div></div>""");
}
