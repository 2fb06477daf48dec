using System.CommandLine;
using System.Net;
using FederatedSharp.Coordinator;

namespace FederatedSharp.Cli.Commands;

/// <summary><c>fedsharp coordinator init|run</c>: set up and run the coordinator.</summary>
internal static class CoordinatorCommands
{
    private static readonly Option<DirectoryInfo> Home = new("--home")
    {
        Description = "The coordinator's home directory (default: $FEDSHARP_COORDINATOR_HOME, else ./fedsharp-coordinator).",
        Recursive = true,
        DefaultValueFactory = _ => new DirectoryInfo(Environment.GetEnvironmentVariable("FEDSHARP_COORDINATOR_HOME") is { Length: > 0 } home ? home : "fedsharp-coordinator"),
    };

    public static Command Create(CliContext context)
    {
        var coordinator = new Command("coordinator", "Set up and run the coordinator.") { Home };
        coordinator.Subcommands.Add(Init(context));
        coordinator.Subcommands.Add(Run(context));
        return coordinator;
    }

    private static Command Init(CliContext context)
    {
        var admin = new Option<string>("--admin") { Description = "The first admin's name.", Required = true };
        var hosts = new Option<string[]>("--host") { Description = "A host name nodes and researchers use (repeat; localhost is always included).", AllowMultipleArgumentsPerToken = true };
        var store = new Option<string?>("--store") { Description = "A PostgreSQL connection string or a SQLite file (default: coordinator.db in the home)." };
        var command = new Command("init", "Create the coordinator's CA, TLS certificate and store, and the first admin's API token (printed once; there is no default password).") { admin, hosts, store };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var settings = new CoordinatorSettings { Store = parse.GetValue(store) ?? "coordinator.db", HostNames = ["localhost", .. parse.GetValue(hosts) ?? []] };
            try
            {
                (CoordinatorHome home, string token) = await CoordinatorHome.InitializeAsync(parse.GetValue(Home)!.FullName, parse.GetValue(admin)!, settings, context.Time, cancellationToken).ConfigureAwait(false);
                return context.Write(parse, new { home = home.Directory, ca = home.AuthorityCertificatePath, admin = parse.GetValue(admin), token },
                    () => $"coordinator ready in {home.Directory}\nCA certificate (give it to every node and researcher): {home.AuthorityCertificatePath}\nadmin token for {parse.GetValue(admin)} (shown once, keep it secret; it also signs you in to the dashboard):\n{token}");
            }
            catch (InvalidOperationException e)
            {
                return context.Fail(parse, e.Message);
            }
        });
        return command;
    }

    private static Command Run(CliContext context)
    {
        var port = new Option<int>("--port") { Description = "The HTTPS port (default 5400).", DefaultValueFactory = _ => 5400 };
        var address = new Option<string>("--address") { Description = "The address to listen on (default 127.0.0.1; 0.0.0.0 for every interface).", DefaultValueFactory = _ => "127.0.0.1" };
        var acceptance = new Option<int>("--acceptance-timeout") { Description = "Seconds a queued job waits for enough nodes to accept it (default 600).", DefaultValueFactory = _ => 600 };
        var reoffer = new Option<int>("--reoffer-interval") { Description = "Seconds between asking pending sites again (default 30).", DefaultValueFactory = _ => 30 };
        var command = new Command("run", "Run the coordinator until stopped (Ctrl+C or SIGTERM).") { port, address, acceptance, reoffer };
        command.SetAction(async (parse, cancellationToken) =>
        {
            CoordinatorHome home;
            try
            {
                home = CoordinatorHome.Open(parse.GetValue(Home)!.FullName);
            }
            catch (DirectoryNotFoundException e)
            {
                return context.Fail(parse, e.Message);
            }

            var options = new CoordinatorOptions
            {
                AcceptanceTimeout = TimeSpan.FromSeconds(parse.GetValue(acceptance)),
                ReofferInterval = TimeSpan.FromSeconds(parse.GetValue(reoffer)),
                AnswerGrace = TimeSpan.FromSeconds(Math.Min(10, parse.GetValue(acceptance))),
            };
            CoordinatorHost host = await CoordinatorHost.StartAsync(home, IPAddress.Parse(parse.GetValue(address)!), parse.GetValue(port), options, timeProvider: context.Time, cancellationToken: cancellationToken).ConfigureAwait(false);
            await using System.Runtime.CompilerServices.ConfiguredAsyncDisposable hostDisposal = host.ConfigureAwait(false);
            await context.Output.WriteLineAsync($"coordinator listening on {host.Address} (store: {host.Store.Provider})").ConfigureAwait(false);
            await context.Output.WriteLineAsync($"dashboard: {new Uri(host.Address, "/dashboard")} (sign in with an API token)").ConfigureAwait(false);
            await context.Output.FlushAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                await Task.Delay(Timeout.InfiniteTimeSpan, context.Time, cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
            }

            await context.Output.WriteLineAsync("coordinator stopped").ConfigureAwait(false);
            return ExitCodes.Success;
        });
        return command;
    }
}
