using System.Security.Claims;
using FederatedSharp.Coordinator.Store;

namespace FederatedSharp.Coordinator.Dashboard;

/// <summary>Who is signed in to the dashboard: the principal and role of the API token they signed in with.</summary>
/// <param name="Name">The principal.</param>
/// <param name="Role">Their role.</param>
/// <param name="TokenHash">The SHA-256 of the token the session was opened with (a revoked token ends the session).</param>
internal sealed record DashboardUser(string Name, Role Role, string TokenHash)
{
    public const string TokenClaim = "fedsharp:token";

    public bool IsAdmin => Role == Role.Admin;

    public bool CanSubmit => Role is Role.Admin or Role.Researcher;

    public bool CanSeeAudit => Role is Role.Admin or Role.Viewer;

    /// <summary>Whether this user may cancel a job submitted by <paramref name="submittedBy"/>.</summary>
    public bool CanCancel(string submittedBy) => Role == Role.Admin || (Role == Role.Researcher && submittedBy == Name);

    public ClaimsPrincipal ToPrincipal(string scheme) => new(new ClaimsIdentity(
        [new Claim(ClaimTypes.Name, Name), new Claim(ClaimTypes.Role, StoreText.Of(Role)), new Claim(TokenClaim, TokenHash)], scheme));

    public static DashboardUser? From(ClaimsPrincipal? principal)
    {
        if (principal?.Identity?.IsAuthenticated != true)
        {
            return null;
        }

        string? name = principal.FindFirstValue(ClaimTypes.Name);
        string? role = principal.FindFirstValue(ClaimTypes.Role);
        string? token = principal.FindFirstValue(TokenClaim);
        return name is null || role is null || token is null ? null : new DashboardUser(name, StoreText.Enum<Role>(role), token);
    }
}
