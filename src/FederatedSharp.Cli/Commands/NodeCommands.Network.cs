using System.CommandLine;
using FederatedSharp.Node;

namespace FederatedSharp.Cli.Commands;

internal static partial class NodeCommands
{
    internal static Command Enrol(CliContext context)
    {
        var coordinator = new Option<Uri>("--coordinator")
        {
            Description = "The coordinator's address.",
            Required = true,
            CustomParser = r => Uri.TryCreate(r.Tokens[0].Value, UriKind.Absolute, out Uri? uri) ? uri : throw new ArgumentException($"'{r.Tokens[0].Value}' is not an absolute address such as https://coordinator.example.org:5400."),
        };
        var token = new Option<string>("--token") { Description = "The one-time enrolment token an admin issued for this node.", Required = true };
        var ca = new Option<FileInfo>("--ca") { Description = "The coordinator's CA certificate, obtained out of band.", Required = true };
        var command = new Command("enrol", "Create this node's key pair (the private key stays here) and send its certificate signing request.") { coordinator, token, ca };
        command.SetAction((parse, ct) => WithHomeAsync(context, parse, async home =>
        {
            string reply = await NodeEnrolment.RequestAsync(home, parse.GetValue(coordinator)!, parse.GetValue(token)!, await File.ReadAllTextAsync(parse.GetValue(ca)!.FullName, ct).ConfigureAwait(false), ct).ConfigureAwait(false);
            return context.Write(parse, new { status = "pending", message = reply }, () => reply);
        }));
        return command;
    }

    internal static Command Certificate(CliContext context)
    {
        var command = new Command("certificate", "Fetch this node's certificate once an admin approved its enrolment.");
        command.SetAction((parse, ct) => WithHomeAsync(context, parse, async home =>
        {
            string status = await NodeEnrolment.FetchCertificateAsync(home, ct).ConfigureAwait(false);
            int code = context.Write(parse, new { status }, () => status == "issued" ? "certificate installed" : "certificate " + status);
            return status == "issued" ? code : ExitCodes.Failure;
        }));
        return command;
    }

    internal static Command Run(CliContext context)
    {
        var wait = new Option<bool>("--wait-for-approval") { Description = "If the node has no certificate yet, wait until an admin approves it." };
        var command = new Command("run", "Run the node until stopped: take jobs from the coordinator, decide each by the site's approvals and policy, run what is approved.") { wait };
        command.SetAction((parse, ct) => WithHomeAsync(context, parse, async home =>
        {
            while (!NodeCredentials.IsEnrolled(home))
            {
                string status = await NodeEnrolment.FetchCertificateAsync(home, ct).ConfigureAwait(false);
                if (status != "issued" && !parse.GetValue(wait))
                {
                    return context.Fail(parse, $"this node's certificate is {status}; an admin must approve it (fedsharp ca approve {home.Identity.Name}), or run with --wait-for-approval");
                }

                if (status != "issued")
                {
                    await Task.Delay(TimeSpan.FromSeconds(2), context.Time, ct).ConfigureAwait(false);
                }
            }

            await context.Output.WriteLineAsync($"node '{home.Identity.Name}' connecting to {home.Identity.Coordinator}").ConfigureAwait(false);
            await context.Output.FlushAsync(ct).ConfigureAwait(false);
            try
            {
                await new NodeAgent(home, timeProvider: context.Time).RunAsync(ct).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                await context.Output.WriteLineAsync("node stopped").ConfigureAwait(false);
            }
            catch (NodeRefusedException e)
            {
                return context.Fail(parse, e.Message);
            }

            return ExitCodes.Success;
        }));
        return command;
    }

    private static async Task<int> WithHomeAsync(CliContext context, ParseResult parse, Func<NodeHome, Task<int>> action)
    {
        try
        {
            return await action(NodeHome.Open(parse.GetValue(HomeOption)!.FullName, context.Time)).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or ArgumentException or KeyNotFoundException or InvalidDataException or InvalidOperationException or global::Grpc.Core.RpcException or HttpRequestException)
        {
            return context.Fail(parse, e.Message);
        }
    }
}
