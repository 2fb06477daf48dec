using System.CommandLine;
using FederatedSharp.Node;
using FederatedSharp.Plans;

namespace FederatedSharp.Cli.Commands;

internal static partial class NodeCommands
{
    private static Command Plans(CliContext context)
    {
        var plans = new Command("plans", "Review the plans that reached this site, and approve or reject them by hash.");
        var hash = new Argument<string>("hash") { Description = "The plan's hash, or at least its first 8 digits." };

        var pending = new Command("pending", "List the plans waiting for a decision.");
        pending.SetAction(parse => WithHome(context, parse, home =>
        {
            IReadOnlyList<PlanApproval> waiting = home.Approvals.Pending();
            return context.Write(parse, waiting, () => waiting.Count == 0 ? "no plans pending" : string.Join(Environment.NewLine, waiting.Select(a =>
                $"{a.Hash[..12]}  {a.Title,-40} datasets {string.Join(",", a.RequestedDatasets)}  from {a.RequestedBy}  {a.ReceivedAt:yyyy-MM-dd HH:mm}")));
        }));

        var list = new Command("list", "List every plan this site knows and where it stands.");
        list.SetAction(parse => WithHome(context, parse, home =>
        {
            IReadOnlyList<PlanApproval> all = home.Approvals.List();
            return context.Write(parse, all, () => all.Count == 0 ? "no plans" : string.Join(Environment.NewLine, all.Select(a => $"{a.Hash[..12]}  {a.Status,-9} {a.Title}")));
        }));

        var show = new Command("show", "Describe a plan as it would run here: model, data use, privacy, and what this site's policy says.") { hash };
        show.SetAction(parse => WithHome(context, parse, home =>
        {
            PlanApproval record = home.Approvals.Find(parse.GetValue(hash)!) ?? throw new KeyNotFoundException($"This node knows no plan {parse.GetValue(hash)}.");
            TrainingPlan plan = home.Approvals.LoadPlan(record.Hash);
            string policy = PolicyVerdict(home, plan, record);
            return context.Write(parse, new { record, policy, summary = PlanSummary.Describe(plan) },
                () => PlanSummary.Describe(plan) + $"Status     {record.Status}{(record.DecidedBy is null ? "" : $" by {record.DecidedBy} on {record.DecidedAt:yyyy-MM-dd}")}\nPolicy     {policy}");
        }));

        var datasets = new Option<string[]>("--dataset") { Description = "A dataset the plan may read (repeat; default: those its job asked for).", AllowMultipleArgumentsPerToken = true };
        var note = new Option<string?>("--note") { Description = "Why (an ethics approval number, for example), for the record." };
        var by = new Option<string>("--by") { Description = "Who decides (default: the user running the command).", DefaultValueFactory = _ => Environment.UserName };
        var approve = new Command("approve", "Approve a plan by hash for datasets.") { hash, datasets, note, by };
        approve.SetAction(parse => WithHome(context, parse, home =>
        {
            string[]? chosen = parse.GetValue(datasets) is { Length: > 0 } d ? d : null;
            PlanApproval record = home.Approvals.Approve(parse.GetValue(hash)!, chosen, parse.GetValue(by)!, parse.GetValue(note));
            home.Audit.AppendAsync("plan_approved", null, record.Hash, string.Join(",", record.Datasets), record.DecidedBy, record.Note).GetAwaiter().GetResult();
            return context.Write(parse, record, () => $"approved {record.Hash[..12]} ({record.Title}) for {string.Join(", ", record.Datasets)}");
        }));

        var reason = new Option<string>("--reason") { Description = "Why it is rejected.", Required = true };
        var reject = new Command("reject", "Reject a plan by hash: its jobs are refused here.") { hash, reason, by };
        reject.SetAction(parse => WithHome(context, parse, home =>
        {
            PlanApproval record = home.Approvals.Reject(parse.GetValue(hash)!, parse.GetValue(by)!, parse.GetValue(reason)!);
            home.Audit.AppendAsync("plan_rejected", null, record.Hash, null, record.DecidedBy, record.Note).GetAwaiter().GetResult();
            return context.Write(parse, record, () => $"rejected {record.Hash[..12]} ({record.Title}): {record.Note}");
        }));

        var file = new Argument<FileInfo>("file") { Description = "The plan's JSON file." };
        var forDatasets = new Option<string[]>("--dataset") { Description = "The datasets it is meant for.", AllowMultipleArgumentsPerToken = true };
        var add = new Command("add", "Bring a plan to this site ahead of its job (it is pending until approved).") { file, forDatasets };
        add.SetAction(parse => WithHome(context, parse, home =>
        {
            TrainingPlan plan;
            try
            {
                plan = TrainingPlan.Load(parse.GetValue(file)!.FullName);
            }
            catch (PlanValidationException e)
            {
                return context.Fail(parse, e.Message);
            }

            PlanApproval record = home.Approvals.Receive(plan, parse.GetValue(forDatasets) ?? [], Environment.UserName);
            return context.Write(parse, record, () => $"{record.Hash[..12]} ({record.Title}) is {record.Status.ToString().ToLowerInvariant()}");
        }));

        foreach (Command verb in new[] { pending, list, show, approve, reject, add })
        {
            plans.Subcommands.Add(verb);
        }

        return plans;
    }

    private static string PolicyVerdict(NodeHome home, TrainingPlan plan, PlanApproval record)
    {
        SitePolicy policy = home.LoadPolicy();
        string? dataset = record.Datasets.Concat(record.RequestedDatasets).FirstOrDefault(d => home.Datasets.Find(d) is not null);
        if (dataset is null)
        {
            return "no registered dataset matches " + string.Join(", ", record.RequestedDatasets.DefaultIfEmpty("(none requested)"));
        }

        try
        {
            using var client = new PlanClient(plan, home.Identity.Name, home.Datasets.Load(dataset));
            double? epsilon = PlanPrivacy.EstimateEpsilon(plan, client.TrainCount);
            string privacy = epsilon is double e ? $", epsilon {e:G4} on this data" : ", no differential privacy";
            return (policy.Refusal(plan, client.TrainCount) is { } refusal ? "would be REFUSED: " + refusal : "allows it")
                + $" (dataset '{dataset}': {client.TrainCount} training rows{privacy}; export {(policy.AllowExport ? "allowed" : "not allowed")})";
        }
        catch (PlanDataException e)
        {
            return $"dataset '{dataset}' does not fit the plan: {e.Message}";
        }
    }
}
