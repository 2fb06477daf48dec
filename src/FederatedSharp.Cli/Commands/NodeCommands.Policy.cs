using System.CommandLine;
using FederatedSharp.Node;

namespace FederatedSharp.Cli.Commands;

internal static partial class NodeCommands
{
    private static Command Policy(CliContext context)
    {
        var policy = new Command("policy", "Show or change what this site allows.");
        var show = new Command("show", "Show the site's policy.");
        show.SetAction(parse => WithHome(context, parse, home => context.Write(parse, home.LoadPolicy(), () => Describe(home.LoadPolicy()))));

        var export = new Option<bool?>("--allow-export") { Description = "Whether final models of jobs this site joined may be downloaded." };
        var count = new Option<int?>("--min-count") { Description = "The fewest records a released statistic may rest on." };
        var requireDp = new Option<bool?>("--require-dp") { Description = "Whether plans must train with differential privacy." };
        var minNoise = new Option<double?>("--min-noise") { Description = "The smallest noise multiplier a DP plan may use." };
        var maxEpsilon = new Option<double?>("--max-epsilon") { Description = "The largest epsilon a plan may spend on this site's data." };
        var set = new Command("set", "Change settings of the site's policy (the others stay).") { export, count, requireDp, minNoise, maxEpsilon };
        set.SetAction(parse => WithHome(context, parse, home =>
        {
            SitePolicy p = home.LoadPolicy();
            p.AllowExport = parse.GetValue(export) ?? p.AllowExport;
            p.MinimumCount = parse.GetValue(count) ?? p.MinimumCount;
            p.RequireDifferentialPrivacy = parse.GetValue(requireDp) ?? p.RequireDifferentialPrivacy;
            p.MinNoiseMultiplier = parse.GetValue(minNoise) ?? p.MinNoiseMultiplier;
            p.MaxEpsilon = parse.GetValue(maxEpsilon) ?? p.MaxEpsilon;
            home.SavePolicy(p);
            home.Audit.AppendAsync("policy_changed", null, null, null, Environment.UserName, Describe(p).Replace(Environment.NewLine, "; ", StringComparison.Ordinal)).GetAwaiter().GetResult();
            return context.Write(parse, p, () => Describe(p));
        }));
        policy.Subcommands.Add(show);
        policy.Subcommands.Add(set);
        return policy;
    }

    private static string Describe(SitePolicy p) => string.Join(Environment.NewLine,
        $"allow export         {p.AllowExport}",
        $"minimum count (k)    {p.MinimumCount}",
        $"require DP           {p.RequireDifferentialPrivacy}",
        $"min noise multiplier {p.MinNoiseMultiplier?.ToString("G4", System.Globalization.CultureInfo.InvariantCulture) ?? "none"}",
        $"max epsilon          {p.MaxEpsilon?.ToString("G4", System.Globalization.CultureInfo.InvariantCulture) ?? "none"}");
}
