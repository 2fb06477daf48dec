namespace FederatedSharp.Coordinator.Dashboard;

/// <summary>The form a researcher submits a training plan with; a plan that does not validate comes back with every error and its JSON path.</summary>
internal static class SubmitView
{
    public static Html Page(string csrf, string plan, string datasets, string minNodes, string? error, IReadOnlyList<(string Path, string Message)> errors) => Html.Of($"""
        <h1>Submit a job</h1>
        <p class="muted">Paste a training plan (<code>federatedsharp.plan/v1</code>). Each site's node checks it against its own approvals and policy before anything runs.</p>
        {Html.When(error is not null, Html.Of($"""
            <div class="notice error" role="alert" id="submit-error"><strong>{error}</strong>
            {Html.When(errors.Count > 0, Html.Of($"<ul>{errors.Select(e => Html.Of($"<li><code>{e.Path}</code>: {e.Message}</li>"))}</ul>"))}</div>
            """))}
        <form method="post" action="/dashboard/jobs/new" class="stack" id="submit-form">{DashboardLayout.Field(csrf)}
          <label>Training plan (JSON)<textarea name="plan" rows="18" required spellcheck="false">{plan}</textarea></label>
          <div class="row">
            <label>Datasets (comma-separated names) <input name="datasets" value="{datasets}" required></label>
            <label>Minimum nodes <input name="minNodes" type="number" min="1" value="{minNodes}"></label>
          </div>
          <button type="submit">Submit</button>
        </form>
        """);
}
