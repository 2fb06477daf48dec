using System.Globalization;
using FederatedSharp.Coordinator.Jobs;
using FederatedSharp.Coordinator.Store;

namespace FederatedSharp.Coordinator.Dashboard;

/// <summary>One job: what it is, and a live section with its progress, metric plots, privacy, nodes, cross-site evaluation and rounds.</summary>
internal static class JobView
{
    public static Html Page(JobSnapshot s, DashboardUser user, string csrf, string? message)
    {
        JobRecord job = s.Job;
        return Html.Of($"""
            <h1>Job <code>{job.Id}</code></h1>
            {Html.When(message is not null, Html.Of($"<p class=\"notice\" role=\"status\">{message}</p>"))}
            <dl class="facts">
              <dt>Plan</dt><dd>{s.Plan?.Name ?? "(unreadable plan)"} <code title="{job.PlanHash}">{job.PlanHash[..12]}</code></dd>
              <dt>Submitted</dt><dd>by {job.SubmittedBy}, {Widgets.Time(job.SubmittedAt)}</dd>
              <dt>Datasets</dt><dd>{string.Join(", ", job.Datasets)}</dd>
              <dt>Needs</dt><dd>at least {job.MinNodes} node(s)</dd>
              <dt>Strategy</dt><dd>{s.Plan?.Federation.Strategy ?? "–"}, {s.TotalRounds} rounds</dd>
            </dl>
            {DashboardLayout.Live("job-live", $"/dashboard/live/jobs/{job.Id}", Live(s, user, csrf))}
            """);
    }

    public static Html Live(JobSnapshot s, DashboardUser user, string csrf) => Html.Of($"""
        <div class="status-row">{Widgets.Badge(s.Job.Status)} <span class="muted">{s.Job.StatusReason ?? ""}</span>
          {Html.When(s.IsActive && user.CanCancel(s.Job.SubmittedBy), Html.Of($"""
            <form method="post" action="/dashboard/jobs/{s.Job.Id}/cancel" class="inline" id="cancel-form">{DashboardLayout.Field(csrf)}<button type="submit" class="danger">Cancel job</button></form>
            """))}
        </div>
        <div id="job-progress">{Widgets.Progress(s.Job.Id, s.RoundsDone, s.TotalRounds)}</div>
        <h2>Metrics by round</h2>
        <div class="charts">{Charts(s)}</div>
        <h2>Privacy</h2>
        {Privacy(s)}
        <h2>Nodes</h2>
        {Nodes(s)}
        {CrossSite(s)}
        <h2>Rounds</h2>
        {Rounds(s)}
        <h2>Runs</h2>
        {Widgets.Table(["Run", "Status", "Started", "Ended", "Error"], s.Runs.Select(r => Html.Of($"<tr><td>{r.Id}</td><td>{Widgets.Badge(r.Status)}</td><td>{Widgets.Time(r.StartedAt)}</td><td>{Widgets.Time(r.EndedAt)}</td><td>{r.Error ?? ""}</td></tr>")), "Not started yet: the job waits for enough nodes to accept it.")}
        """);

    private static IEnumerable<Html> Charts(JobSnapshot s)
    {
        yield return SvgChart.Line("chart-loss", "Federated evaluation loss", s.Series("loss"), s.TotalRounds);
        foreach (string metric in s.MetricNames())
        {
            yield return SvgChart.Line("chart-" + metric, metric, s.Series(metric), s.TotalRounds);
        }
    }

    private static Html Privacy(JobSnapshot s)
    {
        if (!s.HasDp)
        {
            return Html.Raw("<p class=\"muted\" id=\"privacy\">This plan uses no differential privacy: its epsilon is unbounded.</p>");
        }

        if (s.Plan!.Privacy.CentralDp is { } central)
        {
            return Html.Of($"""
                <div class="cards" id="privacy">
                  {Widgets.Card("ε spent (central DP)", Widgets.Number(s.CentralEpsilon()), "epsilon")}
                  {Widgets.Card("δ", Widgets.Number(central.Delta, "0.##E+0"))}
                  {Widgets.Card("noise multiplier", Widgets.Number(central.NoiseMultiplier, "G3"))}
                </div>
                """);
        }

        var dp = s.Plan.Privacy.DpSgd!;
        IReadOnlyDictionary<string, double> sites = s.SiteEpsilons();
        return Html.Of($"""
            <div class="cards" id="privacy">
              {Widgets.Card("ε spent (DP-SGD, worst site)", Widgets.Number(s.EpsilonSpent()), "epsilon")}
              {Widgets.Card("δ", Widgets.Number(dp.Delta, "0.##E+0"))}
              {Widgets.Card("noise multiplier", Widgets.Number(dp.NoiseMultiplier, "G3"))}
            </div>
            {Widgets.Table(["Node", "ε spent on its data"], sites.OrderBy(e => e.Key, StringComparer.Ordinal).Select(e => Html.Of($"<tr><td>{e.Key}</td><td>{Widgets.Number(e.Value)}</td></tr>")), "No site has reported its epsilon yet.")}
            """);
    }

    private static Html Nodes(JobSnapshot s)
    {
        var contributions = s.Contributions();
        var names = s.Decisions.Select(d => d.Node).Concat(contributions.Keys).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal);
        IEnumerable<Html> rows = names.Select(n =>
        {
            JobNodeRecord? d = s.Decisions.FirstOrDefault(x => x.Node == n);
            (int rounds, IReadOnlyList<(int Round, string Reason)> failures) = contributions.GetValueOrDefault(n, (0, []));
            Html last = failures.Count == 0 ? Html.Empty : Html.Of($"round {failures[^1].Round}: {failures[^1].Reason}");
            return Html.Of($"""
                <tr data-node="{n}"><td>{n}</td><td>{(d is null ? Html.Empty : Widgets.Badge(d.Decision))}</td><td>{d?.Reason ?? ""}</td><td>{d?.Dataset ?? ""}</td>
                <td>{(d is not { Decision: NodeDecision.Accepted } ? "–" : d.AllowExport ? "allowed" : "forbidden")}</td><td class="num">{rounds}</td><td class="num">{failures.Count}</td><td>{last}</td></tr>
                """);
        });
        return Widgets.Table(["Node", "Answer", "Reason", "Dataset", "Export", "Rounds aggregated", "Failures", "Last failure"], rows, "No node has answered yet.", "job-nodes");
    }

    private static Html Rounds(JobSnapshot s)
    {
        string[] metrics = [.. s.MetricNames()];
        IEnumerable<Html> rows = s.Rounds.Reverse().Take(50).Select(r =>
        {
            IReadOnlyList<(string Node, string Reason)> failures = JobSnapshot.Failures(r.FailuresJson);
            Dictionary<string, double?> values = System.Text.Json.JsonSerializer.Deserialize<Dictionary<string, double?>>(r.MetricsJson) ?? [];
            return Html.Of($"""
                <tr><td class="num">{r.Round}</td><td>{(r.Succeeded ? Widgets.Badge("ok", "succeeded") : Widgets.Badge("failed", "failed"))}</td><td>{string.Join(", ", r.Participants)}</td>
                <td class="num">{Widgets.Number(r.Loss)}</td>{metrics.Select(m => Html.Of($"<td class=\"num\">{Widgets.Number(values.GetValueOrDefault(m))}</td>"))}
                <td>{string.Join("; ", failures.Select(f => f.Node + ": " + f.Reason))}</td><td class="num">{r.Duration.TotalSeconds.ToString("0.00", CultureInfo.InvariantCulture)} s</td></tr>
                """);
        });
        return Widgets.Table(["Round", "", "Aggregated from", "Loss", .. metrics, "Failures", "Took"], rows, "No round has finished yet.", "rounds");
    }

    private static Html CrossSite(JobSnapshot s)
    {
        string? json = s.Runs.LastOrDefault(r => r.CrossSiteJson is not null)?.CrossSiteJson;
        return json is null ? Html.Empty : Html.Of($"""
            <h2>Cross-site evaluation</h2>
            <p class="muted">Each row's model on each column's test data. Rows: the global model, then each site's locally trained model.</p>
            <div class="charts">{CrossSiteTable.Parse(json).Select(HeatMap.Render)}</div>
            """);
    }
}
