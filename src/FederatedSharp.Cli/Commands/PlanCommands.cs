using System.CommandLine;
using FederatedSharp.Plans;

namespace FederatedSharp.Cli.Commands;

/// <summary><c>fedsharp plan validate|hash|show FILE</c>: check a plan, print its identity, or describe it as a site's approver sees it.</summary>
internal static class PlanCommands
{
    public static Command Create(CliContext context)
    {
        var plan = new Command("plan", "Check, hash and describe training plans.");
        plan.Subcommands.Add(Verb(context, "validate", "Check a plan; list every error with its JSON path.", p => new { valid = true, hash = p.Hash }, p => $"valid: {p} ({p.Hash})"));
        plan.Subcommands.Add(Verb(context, "hash", "Print a plan's SHA-256 identity (RFC 8785 canonical JSON with every default).", p => new { hash = p.Hash }, p => p.Hash));
        plan.Subcommands.Add(Verb(context, "show", "Describe a plan as a site's approver reads it.", p => new { hash = p.Hash, name = p.Name, version = p.Version, summary = PlanSummary.Describe(p), plan = System.Text.Json.JsonDocument.Parse(p.Json).RootElement }, p => PlanSummary.Describe(p).TrimEnd()));
        return plan;
    }

    private static Command Verb(CliContext context, string name, string description, Func<TrainingPlan, object> json, Func<TrainingPlan, string> text)
    {
        var file = new Argument<FileInfo>("file") { Description = "The plan's JSON file." };
        var command = new Command(name, description) { file };
        command.SetAction(parse =>
        {
            FileInfo path = parse.GetValue(file)!;
            try
            {
                TrainingPlan plan = TrainingPlan.Load(path.FullName);
                return context.Write(parse, json(plan), () => text(plan));
            }
            catch (PlanValidationException e)
            {
                return context.Fail(parse, e.Message);
            }
            catch (IOException e)
            {
                return context.Fail(parse, e.Message);
            }
        });
        return command;
    }
}
