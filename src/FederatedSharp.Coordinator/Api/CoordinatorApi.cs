using System.Text.Json;
using FederatedSharp.Coordinator.Jobs;
using FederatedSharp.Coordinator.Nodes;
using FederatedSharp.Coordinator.Security;
using FederatedSharp.Coordinator.Store;
using FederatedSharp.Plans;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace FederatedSharp.Coordinator.Api;

/// <summary>
/// The coordinator's HTTPS API for people and scripts (the CLI uses it): bearer API tokens, each with a role. A missing
/// or bad token is 401; a role that may not do something is 403 with the reason.
/// </summary>
internal static class CoordinatorApi
{
    public static void Map(IEndpointRouteBuilder app)
    {
        RouteGroupBuilder api = app.MapGroup("/api");
        api.MapPost("/jobs", SubmitAsync);
        api.MapGet("/jobs", async (HttpContext http, CoordinatorStore store, TimeProvider time) =>
            await Authorized(http, store, time, [Role.Admin, Role.Researcher, Role.Viewer], async _ => Results.Ok((await store.ListJobsAsync(null, http.RequestAborted).ConfigureAwait(false)).Select(JobView))).ConfigureAwait(false));
        api.MapGet("/jobs/{id}", JobAsync);
        api.MapPost("/jobs/{id}/cancel", CancelAsync);
        api.MapGet("/jobs/{id}/model", DownloadAsync);
        api.MapGet("/nodes", async (HttpContext http, CoordinatorStore store, TimeProvider time) =>
            await Authorized(http, store, time, [Role.Admin, Role.Researcher, Role.Viewer], async _ => Results.Ok((await store.ListNodesAsync(http.RequestAborted).ConfigureAwait(false)).Select(n => new
            {
                n.Name, status = StoreText.Of(n.Status), n.Thumbprint, n.RequestedAt, n.EnrolledAt, n.RevokedAt, n.RevokedReason, n.LastSeen,
                policy = n.PolicySummary is null ? (JsonElement?)null : JsonDocument.Parse(n.PolicySummary).RootElement,
            }))).ConfigureAwait(false));
        api.MapPost("/nodes/{name}/token", async (string name, HttpContext http, CoordinatorStore store, NodeRegistry registry, TimeProvider time) =>
            await Authorized(http, store, time, [Role.Admin], async admin => Results.Ok(new { node = name, token = await registry.CreateEnrolmentTokenAsync(name, TimeSpan.FromDays(7), admin.Principal, http.RequestAborted).ConfigureAwait(false) })).ConfigureAwait(false));
        api.MapPost("/nodes/{name}/approve", async (string name, HttpContext http, CoordinatorStore store, NodeRegistry registry, TimeProvider time) =>
            await Authorized(http, store, time, [Role.Admin], admin => Enrolment(async () => { NodeRecord n = await registry.ApproveAsync(name, admin.Principal, http.RequestAborted).ConfigureAwait(false); return new { n.Name, status = StoreText.Of(n.Status), n.Thumbprint }; })).ConfigureAwait(false));
        api.MapPost("/nodes/{name}/revoke", async (string name, RevokeRequest body, HttpContext http, CoordinatorStore store, NodeRegistry registry, TimeProvider time) =>
            await Authorized(http, store, time, [Role.Admin], admin => Enrolment(async () => { NodeRecord n = await registry.RevokeAsync(name, admin.Principal, body.Reason ?? "revoked by an admin", http.RequestAborted).ConfigureAwait(false); return new { n.Name, status = StoreText.Of(n.Status) }; })).ConfigureAwait(false));
        api.MapPost("/tokens", async (TokenRequest body, HttpContext http, CoordinatorStore store, TimeProvider time) =>
            await Authorized(http, store, time, [Role.Admin], async admin =>
                Results.Ok(new { principal = body.Principal, role = StoreText.Of(body.Role), token = await ApiTokens.IssueAsync(store, body.Principal, body.Role, TimeSpan.FromDays(body.Days ?? 90), admin.Principal, time, http.RequestAborted).ConfigureAwait(false) })).ConfigureAwait(false));
        api.MapPost("/tokens/{principal}/revoke", async (string principal, HttpContext http, CoordinatorStore store, TimeProvider time) =>
            await Authorized(http, store, time, [Role.Admin], async admin =>
            {
                int revoked = await store.RevokeApiTokensAsync(principal, time.GetUtcNow(), http.RequestAborted).ConfigureAwait(false);
                await store.AppendAuditAsync(admin.Principal, "token.revoked", principal, $"{revoked} token(s)", time.GetUtcNow(), http.RequestAborted).ConfigureAwait(false);
                return Results.Ok(new { principal, revoked });
            }).ConfigureAwait(false));
        api.MapGet("/audit", async (HttpContext http, CoordinatorStore store, TimeProvider time) =>
            await Authorized(http, store, time, [Role.Admin, Role.Viewer], async _ => Results.Ok(new { verification = await store.VerifyAuditAsync(http.RequestAborted).ConfigureAwait(false), entries = await store.ListAuditAsync(http.RequestAborted).ConfigureAwait(false) })).ConfigureAwait(false));
    }

    internal static async Task<IResult> Authorized(HttpContext http, CoordinatorStore store, TimeProvider time, Role[] roles, Func<ApiTokenRecord, Task<IResult>> action)
    {
        string? header = http.Request.Headers.Authorization;
        string? token = header is not null && header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) ? header["Bearer ".Length..].Trim() : null;
        ApiTokenRecord? principal = token is null ? null : await ApiTokens.AuthenticateAsync(store, token, time.GetUtcNow(), http.RequestAborted).ConfigureAwait(false);
        if (principal is null)
        {
            return Results.Json(new { error = token is null ? "a bearer token is required" : "the token is unknown, expired or revoked" }, statusCode: StatusCodes.Status401Unauthorized);
        }

        return roles.Contains(principal.Role)
            ? await action(principal).ConfigureAwait(false)
            : Results.Json(new { error = $"a {StoreText.Of(principal.Role)} may not do this" }, statusCode: StatusCodes.Status403Forbidden);
    }

    private static async Task<IResult> SubmitAsync(SubmitRequest body, HttpContext http, CoordinatorStore store, JobCommands commands, TimeProvider time) =>
        await Authorized(http, store, time, [Role.Admin, Role.Researcher], async who =>
        {
            string plan = body.Plan.ValueKind == JsonValueKind.String ? body.Plan.GetString()! : body.Plan.GetRawText();
            JobCommandResult result = await commands.SubmitAsync(who.Principal, plan, body.Datasets, body.MinNodes, http.RequestAborted).ConfigureAwait(false);
            return result.Job is { } job
                ? Results.Created($"/api/jobs/{job.Id}", JobView(job))
                : Results.Json(new { error = result.Error, errors = result.Errors.Select(x => new { path = x.Path, message = x.Message }) }, statusCode: result.StatusCode);
        }).ConfigureAwait(false);

    private static async Task<IResult> JobAsync(string id, HttpContext http, CoordinatorStore store, TimeProvider time) =>
        await Authorized(http, store, time, [Role.Admin, Role.Researcher, Role.Viewer], async _ =>
        {
            JobRecord? job = await store.GetJobAsync(id, http.RequestAborted).ConfigureAwait(false);
            if (job is null)
            {
                return Results.Json(new { error = $"no job '{id}'" }, statusCode: StatusCodes.Status404NotFound);
            }

            IReadOnlyList<RunRecord> runs = await store.ListRunsAsync(id, http.RequestAborted).ConfigureAwait(false);
            IReadOnlyList<RoundRow> rounds = runs.Count == 0 ? [] : await store.ListRoundsAsync(runs[^1].Id, http.RequestAborted).ConfigureAwait(false);
            TrainingPlan plan = TrainingPlan.Parse(job.PlanJson);
            return Results.Ok(new
            {
                job = JobView(job),
                rounds = plan.Federation.Rounds,
                decisions = (await store.ListNodeDecisionsAsync(id, http.RequestAborted).ConfigureAwait(false)).Select(d => new { d.Node, decision = StoreText.Of(d.Decision), d.Reason, d.Dataset, d.AllowExport, d.DecidedAt }),
                runs = runs.Select(r => new { r.Id, status = StoreText.Of(r.Status), r.StartedAt, r.EndedAt, r.Error }),
                history = rounds.Select(r => new
                {
                    r.Round, r.Succeeded, r.Loss, metrics = JsonDocument.Parse(r.MetricsJson).RootElement, r.Participants, failures = JsonDocument.Parse(r.FailuresJson).RootElement,
                    durationMs = (long)r.Duration.TotalMilliseconds, aggregatorMetrics = JsonDocument.Parse(r.AggregatorMetricsJson).RootElement, clientMetrics = JsonDocument.Parse(r.ClientMetricsJson).RootElement,
                }),
                crossSite = runs.LastOrDefault(r => r.CrossSiteJson is not null)?.CrossSiteJson is { } crossSite ? JsonDocument.Parse(crossSite).RootElement : (JsonElement?)null,
            });
        }).ConfigureAwait(false);

    private static async Task<IResult> CancelAsync(string id, HttpContext http, CoordinatorStore store, JobCommands commands, TimeProvider time) =>
        await Authorized(http, store, time, [Role.Admin, Role.Researcher], async who =>
        {
            JobCommandResult result = await commands.CancelAsync(who.Principal, who.Role, id, http.RequestAborted).ConfigureAwait(false);
            return result.Job is not null ? Results.Ok(new { id, status = "cancelled" }) : Results.Json(new { error = result.Error }, statusCode: result.StatusCode);
        }).ConfigureAwait(false);

    private static async Task<IResult> DownloadAsync(string id, HttpContext http, CoordinatorStore store, CoordinatorHome home, TimeProvider time) =>
        await Authorized(http, store, time, [Role.Admin, Role.Researcher], async who =>
        {
            string path = Path.Combine(home.ModelsDirectory, id + ".safetensors");
            JobRecord? job = await store.GetJobAsync(id, http.RequestAborted).ConfigureAwait(false);
            if (job is null || job.Status != JobStatus.Succeeded || !File.Exists(path))
            {
                return Results.Json(new { error = $"job '{id}' has no final model" }, statusCode: StatusCodes.Status404NotFound);
            }

            string[] forbidding = (await store.ListNodeDecisionsAsync(id, http.RequestAborted).ConfigureAwait(false)).Where(d => d.Decision == NodeDecision.Accepted && !d.AllowExport).Select(d => d.Node).ToArray();
            if (forbidding.Length > 0)
            {
                await store.AppendAuditAsync(who.Principal, "model.download_refused", id, "export forbidden by " + string.Join(", ", forbidding), time.GetUtcNow(), http.RequestAborted).ConfigureAwait(false);
                return Results.Json(new { error = $"the model may not leave the federation: the policy of {string.Join(", ", forbidding)} forbids export" }, statusCode: StatusCodes.Status403Forbidden);
            }

            await store.AppendAuditAsync(who.Principal, "model.downloaded", id, "", time.GetUtcNow(), http.RequestAborted).ConfigureAwait(false);
            return Results.File(await File.ReadAllBytesAsync(path, http.RequestAborted).ConfigureAwait(false), "application/octet-stream", id + ".safetensors");
        }).ConfigureAwait(false);

    private static async Task<IResult> Enrolment<T>(Func<Task<T>> action)
    {
        try
        {
            return Results.Ok(await action().ConfigureAwait(false));
        }
        catch (EnrolmentException e)
        {
            return Results.Json(new { error = e.Message }, statusCode: StatusCodes.Status409Conflict);
        }
    }

    private static object JobView(JobRecord j) => new
    {
        j.Id, j.PlanHash, j.Datasets, j.MinNodes, j.SubmittedBy, j.SubmittedAt, status = StoreText.Of(j.Status), j.StatusReason, j.UpdatedAt,
    };

    internal sealed record SubmitRequest(JsonElement Plan, string[]? Datasets, int? MinNodes);

    internal sealed record RevokeRequest(string? Reason);

    internal sealed record TokenRequest(string Principal, Role Role, int? Days);
}
