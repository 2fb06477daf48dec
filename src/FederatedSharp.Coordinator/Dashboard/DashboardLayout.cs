using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Http;

namespace FederatedSharp.Coordinator.Dashboard;

/// <summary>The page around every dashboard view: navigation by role, who is signed in, the anti-forgery token, the assets.</summary>
internal static class DashboardLayout
{
    /// <summary>A whole page as a result, with the security headers every dashboard response carries.</summary>
    public static IResult Page(HttpContext http, DashboardUser? user, string title, string active, Html body, int status = StatusCodes.Status200OK)
    {
        string token = Antiforgery(http);
        Html nav = user is null ? Html.Empty : Html.Of($"""
            <nav class="nav" aria-label="Sections">
              {Link("/dashboard", "Overview", active)}{Link("/dashboard/jobs", "Jobs", active)}{Link("/dashboard/nodes", "Nodes", active)}{Html.When(user.CanSeeAudit, Link("/dashboard/audit", "Audit", active))}{Html.When(user.CanSubmit, Link("/dashboard/jobs/new", "Submit a job", active))}
            </nav>
            <div class="who"><span class="live-dot" id="live-status" title="live updates">●</span> <span id="user-name">{user.Name}</span> <span class="badge role">{Store.StoreText.Of(user.Role)}</span>
              <form method="post" action="/logout" class="inline">{Field(token)}<button type="submit" class="link">Sign out</button></form>
            </div>
            """);
        Html page = Html.Of($"""
            <!DOCTYPE html>
            <html lang="en">
            <head>
              <meta charset="utf-8">
              <meta name="viewport" content="width=device-width, initial-scale=1">
              <meta name="fedsharp-csrf" content="{token}">
              <title>{title} · FederatedSharp</title>
              <link rel="stylesheet" href="/dashboard/assets/dashboard.css">
              <script src="/dashboard/assets/dashboard.js" defer></script>
            </head>
            <body>
              <header class="top"><a class="brand" href="/dashboard">FederatedSharp <span>coordinator</span></a>{nav}</header>
              <main>
            {body}
              </main>
            </body>
            </html>
            """);
        Secure(http.Response);
        return Results.Content(page.Value, "text/html; charset=utf-8", null, status);
    }

    /// <summary>A fragment a live page swaps in.</summary>
    public static IResult Fragment(HttpContext http, Html body)
    {
        Secure(http.Response);
        http.Response.Headers.CacheControl = "no-store";
        return Results.Content(body.Value, "text/html; charset=utf-8");
    }

    /// <summary>The hidden anti-forgery field of a form.</summary>
    public static Html Field(string token) => Html.Of($"""<input type="hidden" name="__csrf" value="{token}">""");

    /// <summary>A new anti-forgery token for this request's user (and its cookie).</summary>
    public static string Antiforgery(HttpContext http) =>
        ((IAntiforgery)http.RequestServices.GetService(typeof(IAntiforgery))!).GetAndStoreTokens(http).RequestToken!;

    /// <summary>A section that refreshes itself from <paramref name="url"/> when the coordinator signals a change.</summary>
    public static Html Live(string id, string url, Html content) => Html.Of($"""<section id="{id}" data-live="{url}">{content}</section>""");

    public static void Secure(HttpResponse response)
    {
        response.Headers.ContentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'";
        response.Headers.XContentTypeOptions = "nosniff";
        response.Headers.XFrameOptions = "DENY";
        response.Headers["Referrer-Policy"] = "no-referrer";
        response.Headers.StrictTransportSecurity = "max-age=31536000";
    }

    private static Html Link(string href, string text, string active) =>
        Html.Of($"""<a href="{href}"{Html.Raw(active == text ? " aria-current=\"page\" class=\"active\"" : "")}>{text}</a>""");
}
