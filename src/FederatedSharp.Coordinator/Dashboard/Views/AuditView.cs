using FederatedSharp.Coordinator.Store;
using FederatedSharp.Server.Audit;

namespace FederatedSharp.Coordinator.Dashboard;

/// <summary>The audit trail, newest first, under the result of checking its hash chain.</summary>
internal static class AuditView
{
    public const int Shown = 500;

    public static Html Page(AuditVerification verification, IReadOnlyList<CoordinatorAuditRecord> entries) => Html.Of($"""
        <h1>Audit trail</h1>
        {DashboardLayout.Live("audit-live", "/dashboard/live/audit", Live(verification, entries))}
        """);

    public static Html Live(AuditVerification v, IReadOnlyList<CoordinatorAuditRecord> entries) => Html.Of($"""
        {(v.IsValid
            ? Html.Of($"""<p class="verdict valid" id="audit-verdict" role="status">Hash chain intact: {v.RecordCount} entries, each linked to the one before. Last hash <code>{v.LastHash[..16]}…</code></p>""")
            : Html.Of($"""<p class="verdict invalid" id="audit-verdict" role="alert">Hash chain broken at {v.Problem}. The {v.RecordCount} entries before it verify; this entry and what follows cannot be trusted.</p>"""))}
        <p class="muted">Showing the newest {Math.Min(Shown, entries.Count)} of {entries.Count} entries.</p>
        {Widgets.Table(["#", "Time", "Actor", "Action", "Subject", "Detail"],
            entries.Reverse().Take(Shown).Select(e => Html.Of($"""<tr{Html.Raw(v.BrokenAtLine == e.Sequence + 1 ? " class=\"broken\"" : "")}><td class="num">{e.Sequence + 1}</td><td>{Widgets.Time(e.Time)}</td><td>{e.Actor}</td><td><code>{e.Action}</code></td><td>{e.Subject}</td><td>{e.Detail}</td></tr>""")),
            "The trail is empty.", "audit-table")}
        """);
}
