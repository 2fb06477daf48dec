using System.Text.Json;
using FederatedSharp.Coordinator.Store;

namespace FederatedSharp.Coordinator.Dashboard;

/// <summary>A node as the dashboard shows it: its record, whether it is connected now, and its latest refusals.</summary>
internal sealed record NodeRow(NodeRecord Node, bool Connected, IReadOnlyList<JobNodeRecord> Refusals);

/// <summary>The nodes: status, connection, last heartbeat, policy, recent refusals; an admin approves enrolments and revokes nodes here.</summary>
internal static class NodesView
{
    public static Html Page(IReadOnlyList<NodeRow> nodes, DashboardUser user, string csrf, string? message) => Html.Of($"""
        <h1>Nodes</h1>
        {Html.When(message is not null, Html.Of($"<p class=\"notice\" role=\"status\">{message}</p>"))}
        {DashboardLayout.Live("nodes-live", "/dashboard/live/nodes", Live(nodes, user, csrf))}
        {Html.When(user.IsAdmin, Html.Of($"""
            <h2>Enrol a node</h2>
            <form method="post" action="/dashboard/nodes/token" class="row-form">{DashboardLayout.Field(csrf)}
              <label>Node name <input name="node" required pattern="[A-Za-z0-9.\-]+" maxlength="64"></label>
              <button type="submit">Create a one-time enrolment token</button>
            </form>
            """))}
        """);

    public static Html Live(IReadOnlyList<NodeRow> nodes, DashboardUser user, string csrf) => Widgets.Table(
        ["Node", "Status", "Connected", "Last heartbeat", "Policy", "Recent refusals", .. user.IsAdmin ? new[] { "Actions" } : []],
        nodes.Select(n => Row(n, user, csrf)), "No node has asked to enrol yet.", "nodes-table");

    private static Html Row(NodeRow row, DashboardUser user, string csrf)
    {
        NodeRecord n = row.Node;
        Html actions = !user.IsAdmin ? Html.Empty : Html.Of($"<td>{n.Status switch
        {
            NodeStatus.PendingEnrolment => Html.Of($"""<form method="post" action="/dashboard/nodes/{n.Name}/approve" class="inline">{DashboardLayout.Field(csrf)}<button type="submit">Approve</button></form>"""),
            NodeStatus.Active => Html.Of($"""<form method="post" action="/dashboard/nodes/{n.Name}/revoke" class="inline revoke">{DashboardLayout.Field(csrf)}<input name="reason" placeholder="reason" required maxlength="200" aria-label="reason for revoking {n.Name}"><button type="submit" class="danger">Revoke</button></form>"""),
            _ => Html.Raw("<span class=\"muted\">–</span>"),
        }}</td>");
        Html refusals = row.Refusals.Count == 0 ? Html.Raw("<span class=\"muted\">none</span>")
            : Html.Of($"<ul class=\"compact\">{row.Refusals.Select(r => Html.Of($"<li><a href=\"/dashboard/jobs/{r.JobId}\">{r.JobId}</a> {Widgets.Badge(r.Decision)} {Reason(r)}</li>"))}</ul>");
        return Html.Of($"""
            <tr data-node="{n.Name}"><td>{n.Name}</td><td>{Widgets.Badge(n.Status)}</td>
            <td class="connection">{(row.Connected ? Widgets.Badge("connected", "connected") : Widgets.Badge("offline", "offline"))}</td>
            <td>{Widgets.Time(n.LastSeen)}</td><td>{Policy(n.PolicySummary)}</td><td>{refusals}</td>{actions}</tr>
            """);
    }

    // The reason without the repeated decision ("pending approval: ...").
    private static string Reason(JobNodeRecord r)
    {
        string prefix = StoreText.Of(r.Decision).Replace('_', ' ') + ": ";
        return r.Reason.StartsWith(prefix, StringComparison.Ordinal) ? r.Reason[prefix.Length..] : r.Reason;
    }

    // The policy the node reported: each setting and its value.
    private static Html Policy(string? json)
    {
        if (json is null)
        {
            return Html.Raw("<span class=\"muted\">not reported</span>");
        }

        using JsonDocument doc = JsonDocument.Parse(json);
        IEnumerable<Html> items = doc.RootElement.ValueKind != JsonValueKind.Object ? []
            : doc.RootElement.EnumerateObject().Where(p => p.Value.ValueKind != JsonValueKind.Null)
                .Select(p => Html.Of($"<li><span class=\"muted\">{p.Name}</span> {(p.Value.ValueKind == JsonValueKind.String ? p.Value.GetString() : p.Value.GetRawText())}</li>"));
        return Html.Of($"<ul class=\"compact\">{items}</ul>");
    }
}
