using System.CommandLine;
using FederatedSharp.Node;

namespace FederatedSharp.Cli.Commands;

/// <summary><c>fedsharp node ...</c>: a site's own administration, run at the site against the node's home directory.</summary>
internal static partial class NodeCommands
{
    public static Option<DirectoryInfo> HomeOption { get; } = new("--home")
    {
        Description = "The node's home directory (default: $FEDSHARP_NODE_HOME, else ./fedsharp-node).",
        Recursive = true,
        DefaultValueFactory = _ => new DirectoryInfo(Environment.GetEnvironmentVariable("FEDSHARP_NODE_HOME") is { Length: > 0 } home ? home : "fedsharp-node"),
    };

    public static Command Create(CliContext context)
    {
        var node = new Command("node", "Run and administer a site's node: datasets, policy, plan approvals, audit.") { HomeOption };
        node.Subcommands.Add(Init(context));
        node.Subcommands.Add(Datasets(context));
        node.Subcommands.Add(Policy(context));
        node.Subcommands.Add(Plans(context));
        node.Subcommands.Add(Audit(context));
        node.Subcommands.Add(Enrol(context));
        node.Subcommands.Add(Certificate(context));
        node.Subcommands.Add(Run(context));
        return node;
    }

    /// <summary>Runs <paramref name="action"/> on the opened home, turning the node's clear exceptions into failures.</summary>
    internal static int WithHome(CliContext context, ParseResult parse, Func<NodeHome, int> action)
    {
        try
        {
            return action(NodeHome.Open(parse.GetValue(HomeOption)!.FullName, context.Time));
        }
        catch (Exception e) when (e is IOException or ArgumentException or KeyNotFoundException or InvalidDataException or UnauthorizedAccessException)
        {
            return context.Fail(parse, e.Message);
        }
    }

    private static Command Init(CliContext context)
    {
        var name = new Option<string>("--name") { Description = "The node's name in the federation (letters, digits, '-', '.').", Required = true };
        var command = new Command("init", "Create the node's home: identity, default policy (no export, k = 10), empty approvals and audit log.") { name };
        command.SetAction(parse =>
        {
            try
            {
                NodeHome home = NodeHome.Create(parse.GetValue(HomeOption)!.FullName, parse.GetValue(name)!, context.Time);
                return context.Write(parse, new { name = home.Identity.Name, home = home.Directory }, () => $"node '{home.Identity.Name}' ready in {home.Directory}");
            }
            catch (Exception e) when (e is IOException or ArgumentException or UnauthorizedAccessException)
            {
                return context.Fail(parse, e.Message);
            }
        });
        return command;
    }

    private static Command Datasets(CliContext context)
    {
        var datasets = new Command("datasets", "Register local datasets (CSV with a header); they never leave the site.");
        var name = new Argument<string>("name") { Description = "The name jobs ask for." };
        var file = new Argument<FileInfo>("file") { Description = "The CSV file." };
        var add = new Command("add", "Register a CSV file under a name.") { name, file };
        add.SetAction(parse => WithHome(context, parse, home =>
        {
            RegisteredDataset d = home.Datasets.Register(parse.GetValue(name)!, parse.GetValue(file)!.FullName);
            home.Audit.AppendAsync("dataset_registered", null, null, d.Name, Environment.UserName, $"{d.Path}: {d.Rows} rows, {d.Columns.Count} columns").GetAwaiter().GetResult();
            return context.Write(parse, d, () => $"registered '{d.Name}': {d.Rows} rows, columns {string.Join(", ", d.Columns)}");
        }));
        var list = new Command("list", "List the registered datasets.");
        list.SetAction(parse => WithHome(context, parse, home =>
        {
            IReadOnlyList<RegisteredDataset> all = home.Datasets.List();
            return context.Write(parse, all, () => all.Count == 0 ? "no datasets" : string.Join(Environment.NewLine, all.Select(d => $"{d.Name,-16} {d.Rows,8} rows  {d.Path}")));
        }));
        datasets.Subcommands.Add(add);
        datasets.Subcommands.Add(list);
        return datasets;
    }

    private static Command Audit(CliContext context)
    {
        var verify = new Option<bool>("--verify") { Description = "Only check the hash chain; exit 1 when it is broken." };
        var command = new Command("audit", "Show the node's hash-chained decision log.") { verify };
        command.SetAction(parse => WithHome(context, parse, home =>
        {
            var check = home.Audit.Verify();
            if (parse.GetValue(verify) || !check.IsValid)
            {
                int code = context.Write(parse, check, () => check.IsValid ? $"audit log intact: {check.RecordCount} records, last hash {check.LastHash}" : $"audit log BROKEN: {check.Problem}");
                return check.IsValid ? code : ExitCodes.Failure;
            }

            IReadOnlyList<NodeEvent> events = home.Audit.ReadAll();
            return context.Write(parse, events, () => string.Join(Environment.NewLine, events.Select(e =>
                $"{e.Sequence,4} {e.Time:yyyy-MM-dd HH:mm:ss} {e.Kind,-18} {e.Job ?? "-",-10} {(e.Plan is null ? "-" : e.Plan[..12]),-12} {e.Actor ?? "-"}: {e.Detail}")));
        }));
        return command;
    }
}
