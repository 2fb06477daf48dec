using FederatedSharp.Coordinator.Store;

namespace FederatedSharp.Coordinator.Dashboard;

/// <summary>The jobs, newest first, each with its live round progress.</summary>
internal static class JobsView
{
    public static Html Page(IReadOnlyList<JobSnapshot> jobs) => Html.Of($"""
        <h1>Jobs</h1>
        {DashboardLayout.Live("jobs-live", "/dashboard/live/jobs", Live(jobs))}
        """);

    public static Html Live(IReadOnlyList<JobSnapshot> jobs) => Widgets.Table(
        Headers,
        jobs.Select(Row), "No job has been submitted yet.", "jobs-table");

    /// <summary>The columns of <see cref="Row"/>.</summary>
    public static string[] Headers { get; } = ["Job", "Plan", "Status", "Progress", "ε spent", "Submitted by", "Submitted", "Reason"];

    public static Html Row(JobSnapshot s) => Html.Of($"""
        <tr data-job="{s.Job.Id}"><td><a href="/dashboard/jobs/{s.Job.Id}"><code>{s.Job.Id}</code></a></td><td>{s.Plan?.Name ?? "?"}</td><td>{Widgets.Badge(s.Job.Status)}</td>
        <td>{Widgets.Progress(s.Job.Id, s.RoundsDone, s.TotalRounds)}</td><td class="num epsilon">{Epsilon(s)}</td><td>{s.Job.SubmittedBy}</td><td>{Widgets.Time(s.Job.SubmittedAt)}</td><td class="reason" title="{s.Job.StatusReason ?? ""}">{Short(s.Job.StatusReason)}</td></tr>
        """);

    // A long reason (every site's answer) in a few lines; the whole of it is on the job's page and in the tooltip.
    private static string Short(string? reason) => reason is null ? "" : reason.Length <= 140 ? reason : reason[..137] + "…";

    // Central DP's epsilon, or DP-SGD's worst site's; "no DP" when the plan has none.
    private static Html Epsilon(JobSnapshot s) => s.HasDp ? Widgets.Number(s.EpsilonSpent()) : Html.Raw("<span class=\"muted\">no DP</span>");

    /// <summary>The newest jobs' snapshots.</summary>
    public static async Task<IReadOnlyList<JobSnapshot>> LoadAsync(CoordinatorStore store, int limit, CancellationToken cancellationToken)
    {
        var snapshots = new List<JobSnapshot>();
        foreach (JobRecord job in (await store.ListJobsAsync(null, cancellationToken).ConfigureAwait(false)).OrderByDescending(j => j.SubmittedAt).Take(limit))
        {
            if (await JobSnapshot.LoadAsync(store, job.Id, cancellationToken).ConfigureAwait(false) is { } snapshot)
            {
                snapshots.Add(snapshot);
            }
        }

        return snapshots;
    }
}
