namespace FederatedSharp.Coordinator.Dashboard;

/// <summary>The sign-in form: an API token, since the coordinator has no passwords and no default account.</summary>
internal static class LoginView
{
    public static Html Page(string csrf, string returnUrl, string? error) => Html.Of($"""
        <div class="login">
          <h1>Sign in</h1>
          <p>Sign in with your API token. The first admin's token is printed once by <code>fedsharp coordinator init</code>; an admin issues tokens to researchers and viewers with <code>fedsharp token issue</code>.</p>
          {Html.When(error is not null, Html.Of($"<p class=\"notice error\" role=\"alert\" id=\"login-error\">{error}</p>"))}
          <form method="post" action="/login" class="stack" id="login-form">{DashboardLayout.Field(csrf)}
            <input type="hidden" name="returnUrl" value="{returnUrl}">
            <label>API token <input name="token" type="password" autocomplete="current-password" required autofocus></label>
            <button type="submit">Sign in</button>
          </form>
        </div>
        """);
}
