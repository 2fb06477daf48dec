using System.CommandLine;
using FederatedSharp.Cli.Commands;

namespace FederatedSharp.Cli;

/// <summary>The <c>fedsharp</c> command line: every verb has --help, --json output for scripts, and documented exit codes (0 done, 1 failed or refused, 2 bad command line).</summary>
internal static class FedsharpCli
{
    public static RootCommand Create(CliContext context)
    {
        var root = new RootCommand("fedsharp: FederatedSharp's command line for training plans, nodes and the coordinator.") { CliContext.JsonOption };
        root.Subcommands.Add(PlanCommands.Create(context));
        root.Subcommands.Add(NodeCommands.Create(context));
        root.Subcommands.Add(CoordinatorCommands.Create(context));
        root.Subcommands.Add(RemoteCommands.Ca(context));
        root.Subcommands.Add(RemoteCommands.Token(context));
        root.Subcommands.Add(RemoteCommands.Job(context));
        root.Subcommands.Add(RemoteCommands.Audit(context));
        return root;
    }

    public static async Task<int> RunAsync(string[] args, TextWriter output, TextWriter error, TimeProvider time, CancellationToken cancellationToken = default)
    {
        var context = new CliContext(output, error, time);
        ParseResult parse = Create(context).Parse(args);
        if (parse.Errors.Count > 0)
        {
            foreach (System.CommandLine.Parsing.ParseError e in parse.Errors)
            {
                await error.WriteLineAsync("error: " + e.Message).ConfigureAwait(false);
            }

            await error.WriteLineAsync("(try --help)").ConfigureAwait(false);
            return ExitCodes.Usage;
        }

        return await parse.InvokeAsync(new InvocationConfiguration { Output = output, Error = error, ProcessTerminationTimeout = null }, cancellationToken).ConfigureAwait(false);
    }
}
