using System.Threading.RateLimiting;
using FederatedSharp.Coordinator.Security;
using FederatedSharp.Coordinator.Store;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace FederatedSharp.Coordinator.Dashboard;

/// <summary>
/// Signing in to the dashboard: with an API token (there are no passwords, so none is a default), into a session
/// cookie that is secure, HTTP-only and same-site strict, and that ends when its token is revoked or expires.
/// Every state-changing form carries an anti-forgery token; sign-in attempts are rate-limited per address.
/// </summary>
internal static class DashboardAuthentication
{
    public const string Scheme = CookieAuthenticationDefaults.AuthenticationScheme;
    private const string LoginLimit = "dashboard-login";

    public static void AddServices(IServiceCollection services, CoordinatorHome home)
    {
        string keys = Path.Combine(home.Directory, "keys");
        Directory.CreateDirectory(keys);
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(keys, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }

        services.AddDataProtection().PersistKeysToFileSystem(new DirectoryInfo(keys)).SetApplicationName("FederatedSharp.Coordinator");
        services.AddAuthentication(Scheme).AddCookie(Scheme, o =>
        {
            o.Cookie.Name = "__Host-fedsharp";
            o.Cookie.HttpOnly = true;
            o.Cookie.SecurePolicy = CookieSecurePolicy.Always;
            o.Cookie.SameSite = SameSiteMode.Strict;
            o.Cookie.Path = "/";
            o.ExpireTimeSpan = TimeSpan.FromHours(8);
            o.SlidingExpiration = true;
            o.LoginPath = "/login";
            o.Events.OnValidatePrincipal = ValidateAsync;
        });
        services.AddAntiforgery(o =>
        {
            o.Cookie.Name = "__Host-fedsharp-csrf";
            o.Cookie.SecurePolicy = CookieSecurePolicy.Always;
            o.Cookie.SameSite = SameSiteMode.Strict;
            o.Cookie.Path = "/";
            o.FormFieldName = "__csrf";
            o.HeaderName = "X-CSRF-TOKEN";
        });
        services.AddRateLimiter(o =>
        {
            o.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
            o.AddPolicy(LoginLimit, http => RateLimitPartition.GetFixedWindowLimiter(http.Connection.RemoteIpAddress?.ToString() ?? "?",
                _ => new FixedWindowRateLimiterOptions { PermitLimit = 20, Window = TimeSpan.FromMinutes(1), QueueLimit = 0 }));
        });
    }

    public static void Map(IEndpointRouteBuilder app)
    {
        app.MapGet("/login", (HttpContext http, string? returnUrl) =>
            DashboardLayout.Page(http, null, "Sign in", "", LoginView.Page(DashboardLayout.Antiforgery(http), Local(returnUrl), null)));
        app.MapPost("/login", LoginAsync).RequireRateLimiting(LoginLimit).DisableAntiforgery();
        app.MapPost("/logout", async (HttpContext http, IAntiforgery antiforgery, CoordinatorStore store, TimeProvider time) =>
        {
            if (!await antiforgery.IsRequestValidAsync(http).ConfigureAwait(false))
            {
                return Results.BadRequest("The form's anti-forgery token is missing or invalid; reload the page.");
            }

            if (DashboardUser.From(http.User) is { } user)
            {
                await http.SignOutAsync(Scheme).ConfigureAwait(false);
                await store.AppendAuditAsync(user.Name, "dashboard.signed_out", user.Name, "", time.GetUtcNow(), http.RequestAborted).ConfigureAwait(false);
            }

            return Results.Redirect("/login");
        }).DisableAntiforgery();
    }

    private static async Task<IResult> LoginAsync(HttpContext http, IAntiforgery antiforgery, CoordinatorStore store, TimeProvider time)
    {
        if (!await antiforgery.IsRequestValidAsync(http).ConfigureAwait(false))
        {
            return Results.BadRequest("The form's anti-forgery token is missing or invalid; reload the page.");
        }

        IFormCollection form = await http.Request.ReadFormAsync(http.RequestAborted).ConfigureAwait(false);
        string returnUrl = Local(form["returnUrl"]);
        string token = form["token"].ToString().Trim();
        ApiTokenRecord? record = await ApiTokens.AuthenticateAsync(store, token, time.GetUtcNow(), http.RequestAborted).ConfigureAwait(false);
        if (record is null || record.Role == Role.Node)
        {
            string address = http.Connection.RemoteIpAddress?.ToString() ?? "unknown address";
            await store.AppendAuditAsync("anonymous", "dashboard.sign_in_failed", address, "an unknown, expired or revoked token", time.GetUtcNow(), http.RequestAborted).ConfigureAwait(false);
            http.User = new System.Security.Claims.ClaimsPrincipal();
            return DashboardLayout.Page(http, null, "Sign in", "", LoginView.Page(DashboardLayout.Antiforgery(http), returnUrl, "That token is unknown, expired or revoked."), StatusCodes.Status401Unauthorized);
        }

        var user = new DashboardUser(record.Principal, record.Role, record.Hash);
        await http.SignInAsync(Scheme, user.ToPrincipal(Scheme), new AuthenticationProperties { IsPersistent = false }).ConfigureAwait(false);
        await store.AppendAuditAsync(user.Name, "dashboard.signed_in", user.Name, "role " + StoreText.Of(user.Role), time.GetUtcNow(), http.RequestAborted).ConfigureAwait(false);
        return Results.Redirect(returnUrl);
    }

    // A session lasts only as long as the token it was opened with.
    private static async Task ValidateAsync(CookieValidatePrincipalContext context)
    {
        DashboardUser? user = DashboardUser.From(context.Principal);
        var store = context.HttpContext.RequestServices.GetRequiredService<CoordinatorStore>();
        var time = context.HttpContext.RequestServices.GetRequiredService<TimeProvider>();
        ApiTokenRecord? record = user is null ? null : await store.FindApiTokenAsync(user.TokenHash, context.HttpContext.RequestAborted).ConfigureAwait(false);
        if (!ApiTokens.IsValid(record, time.GetUtcNow()) || record.Principal != user!.Name || record.Role != user.Role)
        {
            context.RejectPrincipal();
            await context.HttpContext.SignOutAsync(Scheme).ConfigureAwait(false);
        }
    }

    /// <summary>A return address only if it is a path on this site (no open redirect).</summary>
    private static string Local(string? url) =>
        !string.IsNullOrEmpty(url) && url.StartsWith('/') && !url.StartsWith("//", StringComparison.Ordinal) && !url.StartsWith("/\\", StringComparison.Ordinal) ? url : "/dashboard";
}
