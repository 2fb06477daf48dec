using System.CommandLine;
using System.Text.Json;

namespace FederatedSharp.Cli.Commands;

/// <summary>Commands that talk to the coordinator's API: <c>fedsharp ca ...</c>, <c>fedsharp token ...</c> and <c>fedsharp job ...</c>.</summary>
internal static partial class RemoteCommands
{
    public static Command Ca(CliContext context)
    {
        var ca = new Command("ca", "Enrol, approve and revoke nodes (admin).");
        ApiClient.AddOptions(ca);
        var node = new Argument<string>("node") { Description = "The node's name." };
        ca.Subcommands.Add(Remote(context, "token", "Issue a one-time enrolment token for a node.", [node], (api, parse, ct) => api.PostAsync($"/api/nodes/{parse.GetValue(node)}/token", null, ct),
            r => $"enrolment token for {r.GetProperty("node").GetString()} (valid 7 days, once):\n{r.GetProperty("token").GetString()}"));
        ca.Subcommands.Add(Remote(context, "approve", "Approve a node's enrolment: the CA signs its certificate signing request.", [node], (api, parse, ct) => api.PostAsync($"/api/nodes/{parse.GetValue(node)}/approve", null, ct),
            r => $"approved {r.GetProperty("name").GetString()}: certificate {r.GetProperty("thumbprint").GetString()}"));
        var reason = new Option<string>("--reason") { Description = "Why.", Required = true };
        ca.Subcommands.Add(Remote(context, "revoke", "Revoke a node: refused at its next connection, its live session ends.", [node, reason],
            (api, parse, ct) => api.PostAsync($"/api/nodes/{parse.GetValue(node)}/revoke", new { reason = parse.GetValue(reason) }, ct), r => $"revoked {r.GetProperty("name").GetString()}"));
        ca.Subcommands.Add(Remote(context, "nodes", "List the node registry.", [], (api, _, ct) => api.GetAsync("/api/nodes", ct),
            r => string.Join(Environment.NewLine, r.EnumerateArray().Select(n => $"{n.GetProperty("name").GetString(),-16} {n.GetProperty("status").GetString(),-18} last seen {Text(n, "lastSeen")}"))));
        return ca;
    }

    public static Command Token(CliContext context)
    {
        var token = new Command("token", "Issue API tokens (admin).");
        ApiClient.AddOptions(token);
        var principal = new Argument<string>("principal") { Description = "Who the token is for." };
        var role = new Option<string>("--role") { Description = "admin, researcher or viewer.", Required = true };
        var days = new Option<int>("--days") { Description = "How long it works (default 90).", DefaultValueFactory = _ => 90 };
        token.Subcommands.Add(Remote(context, "issue", "Issue an API token (shown once).", [principal, role, days],
            (api, parse, ct) => api.PostAsync("/api/tokens", new { principal = parse.GetValue(principal), role = parse.GetValue(role), days = parse.GetValue(days) }, ct),
            r => $"token for {r.GetProperty("principal").GetString()} ({r.GetProperty("role").GetString()}), shown once:\n{r.GetProperty("token").GetString()}"));
        token.Subcommands.Add(Remote(context, "revoke", "Revoke every API token of a principal.", [principal],
            (api, parse, ct) => api.PostAsync($"/api/tokens/{Uri.EscapeDataString(parse.GetValue(principal)!)}/revoke", null, ct),
            r => $"revoked {r.GetProperty("revoked").GetInt32()} token(s) of {r.GetProperty("principal").GetString()}"));
        return token;
    }

    public static Command Audit(CliContext context)
    {
        var audit = new Command("audit", "Show the coordinator's hash-chained audit trail and whether its chain is intact (admin, viewer); exits 1 when broken.");
        ApiClient.AddOptions(audit);
        audit.SetAction((parse, ct) => Call(context, parse, async api =>
        {
            JsonElement result = await api.GetAsync("/api/audit", ct).ConfigureAwait(false);
            bool valid = result.GetProperty("verification").GetProperty("isValid").GetBoolean();
            int code = context.Write(parse, result, () => string.Join(Environment.NewLine, result.GetProperty("entries").EnumerateArray()
                .Select(e => $"{e.GetProperty("sequence").GetInt64(),5} {e.GetProperty("time").GetString()} {e.GetProperty("actor").GetString(),-14} {e.GetProperty("action").GetString(),-24} {e.GetProperty("subject").GetString()} {e.GetProperty("detail").GetString()}")
                .Append(valid ? "chain intact" : "chain BROKEN: " + result.GetProperty("verification").GetProperty("problem").GetString())));
            return valid ? code : ExitCodes.Failure;
        }));
        return audit;
    }

    private static Command Remote(CliContext context, string name, string description, Symbol[] symbols, Func<ApiClient, ParseResult, CancellationToken, Task<JsonElement>> call, Func<JsonElement, string> text)
    {
        var command = new Command(name, description);
        foreach (Symbol symbol in symbols)
        {
            switch (symbol)
            {
                case Argument argument:
                    command.Arguments.Add(argument);
                    break;
                case Option option:
                    command.Options.Add(option);
                    break;
            }
        }

        command.SetAction((parse, ct) => Call(context, parse, async api =>
        {
            JsonElement result = await call(api, parse, ct).ConfigureAwait(false);
            return context.Write(parse, result, () => text(result));
        }));
        return command;
    }

    internal static async Task<int> Call(CliContext context, ParseResult parse, Func<ApiClient, Task<int>> action)
    {
        try
        {
            using ApiClient api = ApiClient.Create(parse);
            return await action(api).ConfigureAwait(false);
        }
        catch (Exception e) when (e is ApiException or HttpRequestException or ArgumentException or IOException or System.Security.Cryptography.CryptographicException)
        {
            return context.Fail(parse, e.Message);
        }
    }

    private static string Text(JsonElement e, string name) => e.TryGetProperty(name, out JsonElement v) && v.ValueKind != JsonValueKind.Null ? v.ToString() : "-";
}
