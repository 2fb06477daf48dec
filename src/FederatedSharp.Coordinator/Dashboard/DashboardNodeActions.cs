using FederatedSharp.Coordinator.Nodes;
using FederatedSharp.Coordinator.Store;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace FederatedSharp.Coordinator.Dashboard;

/// <summary>What an admin does to nodes from the dashboard: one-time enrolment tokens, approving enrolments, revoking nodes.</summary>
internal static class DashboardNodeActions
{
    private static readonly Role[] Admins = [Role.Admin];

    public static void Map(IEndpointRouteBuilder app)
    {
        app.MapPost("/dashboard/nodes/token", (HttpContext http, NodeRegistry registry) => DashboardEndpoints.Action(http, Admins, async user =>
        {
            IFormCollection form = await http.Request.ReadFormAsync(http.RequestAborted).ConfigureAwait(false);
            string node = form["node"].ToString().Trim();
            try
            {
                string token = await registry.CreateEnrolmentTokenAsync(node, TimeSpan.FromDays(7), user.Name, http.RequestAborted).ConfigureAwait(false);
                return DashboardLayout.Page(http, user, "Enrolment token", "Nodes", Html.Of($"""
                    <h1>Enrolment token for {node}</h1>
                    <p>Give it to the site's operator by a separate, trusted channel. It is shown once, works once, for {node} only, for 7 days.</p>
                    <pre class="secret" id="enrolment-token">{token}</pre>
                    <p>At the site: <code>fedsharp node --home &lt;dir&gt; enrol --coordinator {http.Request.Scheme}://{http.Request.Host} --ca ca.crt --token &lt;token&gt;</code>, then approve the request here.</p>
                    <p><a href="/dashboard/nodes">Back to the nodes</a></p>
                    """));
            }
            catch (Exception e) when (e is EnrolmentException or ArgumentException)
            {
                return DashboardEndpoints.Problem(http, user, StatusCodes.Status400BadRequest, e.Message);
            }
        })).DisableAntiforgery();

        app.MapPost("/dashboard/nodes/{name}/approve", (string name, HttpContext http, NodeRegistry registry) => DashboardEndpoints.Action(http, Admins, async user =>
            await Enrolment(http, user, async () => await registry.ApproveAsync(name, user.Name, http.RequestAborted).ConfigureAwait(false), $"{name} is enrolled: its certificate is issued.").ConfigureAwait(false)))
            .DisableAntiforgery();

        app.MapPost("/dashboard/nodes/{name}/revoke", (string name, HttpContext http, NodeRegistry registry) => DashboardEndpoints.Action(http, Admins, async user =>
        {
            IFormCollection form = await http.Request.ReadFormAsync(http.RequestAborted).ConfigureAwait(false);
            string reason = form["reason"].ToString().Trim();
            return await Enrolment(http, user, async () => await registry.RevokeAsync(name, user.Name, reason.Length == 0 ? "revoked by an admin" : reason, http.RequestAborted).ConfigureAwait(false),
                $"{name} is revoked: its session ended and it is refused from now on.").ConfigureAwait(false);
        })).DisableAntiforgery();
    }

    private static async Task<IResult> Enrolment(HttpContext http, DashboardUser user, Func<Task<NodeRecord>> action, string done)
    {
        try
        {
            await action().ConfigureAwait(false);
            return Results.Redirect("/dashboard/nodes?message=" + Uri.EscapeDataString(done));
        }
        catch (EnrolmentException e)
        {
            return DashboardEndpoints.Problem(http, user, StatusCodes.Status409Conflict, e.Message);
        }
    }
}
