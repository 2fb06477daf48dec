using FederatedSharp.Coordinator.Store;

namespace FederatedSharp.Coordinator.Dashboard;

/// <summary>The landing page: the federation at a glance, and the newest jobs with their live progress.</summary>
internal static class OverviewView
{
    public static Html Page(IReadOnlyList<NodeRow> nodes, IReadOnlyList<JobSnapshot> jobs) => Html.Of($"""
        <h1>Overview</h1>
        {DashboardLayout.Live("overview-live", "/dashboard/live/overview", Live(nodes, jobs))}
        """);

    public static Html Live(IReadOnlyList<NodeRow> nodes, IReadOnlyList<JobSnapshot> jobs) => Html.Of($"""
        <div class="cards">
          {Widgets.Card("Nodes connected", Html.Of($"{nodes.Count(n => n.Connected)} <span class=\"muted\">of {nodes.Count(n => n.Node.Status == NodeStatus.Active)} enrolled</span>"), "card-connected")}
          {Widgets.Card("Awaiting enrolment", Html.Text(nodes.Count(n => n.Node.Status == NodeStatus.PendingEnrolment).ToString(System.Globalization.CultureInfo.InvariantCulture)))}
          {Widgets.Card("Jobs running", Html.Text(jobs.Count(j => j.Job.Status == JobStatus.Running).ToString(System.Globalization.CultureInfo.InvariantCulture)), "card-running")}
          {Widgets.Card("Jobs queued", Html.Text(jobs.Count(j => j.Job.Status == JobStatus.Queued).ToString(System.Globalization.CultureInfo.InvariantCulture)))}
        </div>
        <h2>Latest jobs</h2>
        {Widgets.Table(JobsView.Headers, jobs.Take(8).Select(JobsView.Row), "No job has been submitted yet.")}
        <h2>Nodes</h2>
        {Widgets.Table(["Node", "Status", "Connected", "Last heartbeat"], nodes.Select(n => Html.Of($"""
            <tr data-node="{n.Node.Name}"><td>{n.Node.Name}</td><td>{Widgets.Badge(n.Node.Status)}</td><td>{(n.Connected ? Widgets.Badge("connected", "connected") : Widgets.Badge("offline", "offline"))}</td><td>{Widgets.Time(n.Node.LastSeen)}</td></tr>
            """)), "No node has asked to enrol yet.")}
        """);
}
