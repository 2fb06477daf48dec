using FederatedSharp.Coordinator.Jobs;
using FederatedSharp.Coordinator.Nodes;
using FederatedSharp.Coordinator.Store;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace FederatedSharp.Coordinator.Dashboard;

/// <summary>
/// The dashboard's pages, the live fragments they refresh from, and the actions people take, each checked against the
/// signed-in user's role: anonymous page views go to the sign-in page, anonymous fragments and actions get 401, and
/// a role that may not do something gets 403 with the reason.
/// </summary>
internal static class DashboardEndpoints
{
    private const int JobsShown = 100;

    public static void Map(IEndpointRouteBuilder app)
    {
        app.MapGet("/", () => Results.Redirect("/dashboard"));
        app.MapGet("/dashboard/assets/{name}", DashboardAssets.Serve);
        app.MapGet("/dashboard/events", (HttpContext http, DashboardEvents events) =>
            DashboardUser.From(http.User) is null ? Task.FromResult(Unauthorized(http)) : Stream(http, events));

        app.MapGet("/dashboard", (HttpContext http, CoordinatorStore store, NodeSessions sessions) => View(http, null, async user =>
            DashboardLayout.Page(http, user, "Overview", "Overview", OverviewView.Page(await NodeRowsAsync(store, sessions, http).ConfigureAwait(false), await JobsView.LoadAsync(store, 8, http.RequestAborted).ConfigureAwait(false)))));
        app.MapGet("/dashboard/live/overview", (HttpContext http, CoordinatorStore store, NodeSessions sessions) => Fragment(http, null, async user =>
            OverviewView.Live(await NodeRowsAsync(store, sessions, http).ConfigureAwait(false), await JobsView.LoadAsync(store, 8, http.RequestAborted).ConfigureAwait(false))));

        app.MapGet("/dashboard/jobs", (HttpContext http, CoordinatorStore store) => View(http, null, async user =>
            DashboardLayout.Page(http, user, "Jobs", "Jobs", JobsView.Page(await JobsView.LoadAsync(store, JobsShown, http.RequestAborted).ConfigureAwait(false)))));
        app.MapGet("/dashboard/live/jobs", (HttpContext http, CoordinatorStore store) => Fragment(http, null, async user =>
            JobsView.Live(await JobsView.LoadAsync(store, JobsShown, http.RequestAborted).ConfigureAwait(false))));

        app.MapGet("/dashboard/jobs/new", (Func<HttpContext, Task<IResult>>)(http => View(http, [Role.Admin, Role.Researcher], user =>
            Task.FromResult(DashboardLayout.Page(http, user, "Submit a job", "Submit a job", SubmitView.Page(DashboardLayout.Antiforgery(http), "", "", "", null, []))))));
        app.MapPost("/dashboard/jobs/new", SubmitAsync).DisableAntiforgery();

        app.MapGet("/dashboard/jobs/{id}", (string id, HttpContext http, CoordinatorStore store, string? message) => View(http, null, async user =>
            await JobSnapshot.LoadAsync(store, id, http.RequestAborted).ConfigureAwait(false) is { } s
                ? DashboardLayout.Page(http, user, "Job " + id, "Jobs", JobView.Page(s, user, DashboardLayout.Antiforgery(http), message))
                : NotFound(http, user, $"There is no job '{id}'.")));
        app.MapGet("/dashboard/live/jobs/{id}", (string id, HttpContext http, CoordinatorStore store) => Fragment(http, null, async user =>
            await JobSnapshot.LoadAsync(store, id, http.RequestAborted).ConfigureAwait(false) is { } s ? JobView.Live(s, user, DashboardLayout.Antiforgery(http)) : Html.Of($"<p class=\"notice error\">There is no job '{id}'.</p>")));
        app.MapPost("/dashboard/jobs/{id}/cancel", (string id, HttpContext http, JobCommands commands) => Action(http, [Role.Admin, Role.Researcher], async user =>
        {
            JobCommandResult result = await commands.CancelAsync(user.Name, user.Role, id, http.RequestAborted).ConfigureAwait(false);
            return result.Job is not null ? Results.Redirect($"/dashboard/jobs/{id}?message=" + Uri.EscapeDataString("The job was cancelled."))
                : Problem(http, user, result.StatusCode, result.Error!);
        })).DisableAntiforgery();

        app.MapGet("/dashboard/nodes", (HttpContext http, CoordinatorStore store, NodeSessions sessions, string? message) => View(http, null, async user =>
            DashboardLayout.Page(http, user, "Nodes", "Nodes", NodesView.Page(await NodeRowsAsync(store, sessions, http).ConfigureAwait(false), user, DashboardLayout.Antiforgery(http), message))));
        app.MapGet("/dashboard/live/nodes", (HttpContext http, CoordinatorStore store, NodeSessions sessions) => Fragment(http, null, async user =>
            NodesView.Live(await NodeRowsAsync(store, sessions, http).ConfigureAwait(false), user, DashboardLayout.Antiforgery(http))));
        DashboardNodeActions.Map(app);

        app.MapGet("/dashboard/audit", (HttpContext http, CoordinatorStore store) => View(http, [Role.Admin, Role.Viewer], async user =>
            DashboardLayout.Page(http, user, "Audit", "Audit", AuditView.Page(await store.VerifyAuditAsync(http.RequestAborted).ConfigureAwait(false), await store.ListAuditAsync(http.RequestAborted).ConfigureAwait(false)))));
        app.MapGet("/dashboard/live/audit", (HttpContext http, CoordinatorStore store) => Fragment(http, [Role.Admin, Role.Viewer], async user =>
            AuditView.Live(await store.VerifyAuditAsync(http.RequestAborted).ConfigureAwait(false), await store.ListAuditAsync(http.RequestAborted).ConfigureAwait(false))));
    }

    /// <summary>A page: anonymous goes to sign in, a role not in <paramref name="roles"/> (null: any) gets 403.</summary>
    public static async Task<IResult> View(HttpContext http, Role[]? roles, Func<DashboardUser, Task<IResult>> render)
    {
        DashboardUser? user = DashboardUser.From(http.User);
        if (user is null)
        {
            return Results.Redirect("/login?returnUrl=" + Uri.EscapeDataString(http.Request.Path + http.Request.QueryString));
        }

        return roles is not null && !roles.Contains(user.Role)
            ? Problem(http, user, StatusCodes.Status403Forbidden, $"A {StoreText.Of(user.Role)} may not see this page.")
            : await render(user).ConfigureAwait(false);
    }

    /// <summary>A state-changing form post: 401 for anonymous, 400 without a valid anti-forgery token, 403 for a role not in <paramref name="roles"/>.</summary>
    public static async Task<IResult> Action(HttpContext http, Role[] roles, Func<DashboardUser, Task<IResult>> act)
    {
        DashboardUser? user = DashboardUser.From(http.User);
        if (user is null)
        {
            return Unauthorized(http);
        }

        var antiforgery = (IAntiforgery)http.RequestServices.GetService(typeof(IAntiforgery))!;
        if (!await antiforgery.IsRequestValidAsync(http).ConfigureAwait(false))
        {
            return Problem(http, user, StatusCodes.Status400BadRequest, "The form's anti-forgery token is missing or invalid; reload the page and try again.");
        }

        return roles.Contains(user.Role)
            ? await act(user).ConfigureAwait(false)
            : Problem(http, user, StatusCodes.Status403Forbidden, $"A {StoreText.Of(user.Role)} may not do this.");
    }

    public static IResult Problem(HttpContext http, DashboardUser user, int status, string message) =>
        DashboardLayout.Page(http, user, status == StatusCodes.Status403Forbidden ? "Forbidden" : "Not possible", "",
            Html.Of($"""<h1>{(status == StatusCodes.Status403Forbidden ? "Forbidden" : "That did not work")}</h1><p class="notice error" role="alert" id="problem">{message}</p><p><a href="/dashboard">Back to the overview</a></p>"""), status);

    public static async Task<IReadOnlyList<NodeRow>> NodeRowsAsync(CoordinatorStore store, NodeSessions sessions, HttpContext http)
    {
        var connected = sessions.Nodes.ToHashSet(StringComparer.Ordinal);
        var rows = new List<NodeRow>();
        foreach (NodeRecord node in await store.ListNodesAsync(http.RequestAborted).ConfigureAwait(false))
        {
            IReadOnlyList<JobNodeRecord> recent = await store.ListDecisionsByNodeAsync(node.Name, 20, http.RequestAborted).ConfigureAwait(false);
            rows.Add(new NodeRow(node, connected.Contains(node.Name), recent.Where(d => d.Decision != NodeDecision.Accepted).Take(3).ToArray()));
        }

        return rows;
    }

    private static async Task<IResult> Fragment(HttpContext http, Role[]? roles, Func<DashboardUser, Task<Html>> render)
    {
        DashboardUser? user = DashboardUser.From(http.User);
        if (user is null)
        {
            return Unauthorized(http);
        }

        return roles is not null && !roles.Contains(user.Role)
            ? Results.Text($"A {StoreText.Of(user.Role)} may not see this.", statusCode: StatusCodes.Status403Forbidden)
            : DashboardLayout.Fragment(http, await render(user).ConfigureAwait(false));
    }

    private static async Task<IResult> SubmitAsync(HttpContext http, JobCommands commands) => await Action(http, [Role.Admin, Role.Researcher], async user =>
    {
        IFormCollection form = await http.Request.ReadFormAsync(http.RequestAborted).ConfigureAwait(false);
        string plan = form["plan"].ToString(), datasets = form["datasets"].ToString(), minNodes = form["minNodes"].ToString();
        int? min = int.TryParse(minNodes, System.Globalization.CultureInfo.InvariantCulture, out int m) ? m : null;
        JobCommandResult result = string.IsNullOrWhiteSpace(minNodes) || min is not null
            ? await commands.SubmitAsync(user.Name, plan, datasets.Split(','), min, http.RequestAborted).ConfigureAwait(false)
            : JobCommandResult.Invalid($"the minimum number of nodes must be a whole number, not '{minNodes}'", []);
        return result.Job is { } job
            ? Results.Redirect($"/dashboard/jobs/{job.Id}?message=" + Uri.EscapeDataString("Submitted. Nodes are asked now; the job starts once enough of them accept."))
            : DashboardLayout.Page(http, user, "Submit a job", "Submit a job", SubmitView.Page(DashboardLayout.Antiforgery(http), plan, datasets, minNodes, result.Error, result.Errors), result.StatusCode);
    }).ConfigureAwait(false);

    private static async Task<IResult> Stream(HttpContext http, DashboardEvents events)
    {
        await events.StreamAsync(http).ConfigureAwait(false);
        return Results.Empty;
    }

    private static IResult Unauthorized(HttpContext http)
    {
        DashboardLayout.Secure(http.Response);
        return Results.Text("Sign in first: this needs a dashboard session.", statusCode: StatusCodes.Status401Unauthorized);
    }

    private static IResult NotFound(HttpContext http, DashboardUser user, string message) => Problem(http, user, StatusCodes.Status404NotFound, message);
}
