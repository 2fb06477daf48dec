using System.CommandLine;
using System.Text.Json;
using FederatedSharp.Plans;
using Microsoft.Extensions.Time.Testing;

namespace FederatedSharp.Cli.Tests.Commands;

public sealed class FedsharpCliTests
{
    private static readonly string PlanFile = Path.Combine(AppContext.BaseDirectory, "plans", "heart-disease.plan.json");
    private static readonly string Cleveland = Path.Combine(AppContext.BaseDirectory, "data", "cleveland.csv");
    private string _home = null!;

    [SetUp]
    public void SetUp() => _home = Path.Combine(Path.GetTempPath(), "fedsharp-cli-" + Guid.NewGuid().ToString("N"));

    [TearDown]
    public void TearDown()
    {
        if (Directory.Exists(_home))
        {
            Directory.Delete(_home, recursive: true);
        }
    }

    [Test]
    public async Task PlanHash_HeartDiseasePlan_PrintsTheLibrarysHash()
    {
        (int code, string output, _) = await Run("plan", "hash", PlanFile);

        Assert.That(code, Is.Zero);
        Assert.That(output.Trim(), Is.EqualTo(TrainingPlan.Load(PlanFile).Hash));
    }

    [Test]
    public async Task PlanValidate_BrokenPlan_ExitsOneWithEveryJsonPath()
    {
        string broken = Path.Combine(Path.GetTempPath(), Guid.NewGuid().ToString("N") + ".json");
        File.WriteAllText(broken, File.ReadAllText(PlanFile).Replace("\"linear\"", "\"dense\"", StringComparison.Ordinal).Replace("\"rounds\": 15", "\"rounds\": 0", StringComparison.Ordinal));
        try
        {
            (int code, string output, _) = await Run("plan", "validate", broken, "--json");

            Assert.That(code, Is.EqualTo(1));
            string error = JsonDocument.Parse(output).RootElement.GetProperty("error").GetString()!;
            Assert.That(error, Does.Contain("$.model.layers[0].type: unknown layer 'dense'").And.Contain("$.federation.rounds: 0 is out of range"));
        }
        finally
        {
            File.Delete(broken);
        }
    }

    [Test]
    public async Task NodePlans_InitRegisterAddApprove_ApprovalAndAuditRecorded()
    {
        string hash = TrainingPlan.Load(PlanFile).Hash;
        Assert.That((await Run("node", "--home", _home, "init", "--name", "cleveland")).Code, Is.Zero);
        Assert.That((await Run("node", "--home", _home, "datasets", "add", "heart", Cleveland)).Code, Is.Zero);
        Assert.That((await Run("node", "--home", _home, "plans", "add", PlanFile, "--dataset", "heart")).Code, Is.Zero);

        (_, string pending, _) = await Run("node", "--home", _home, "plans", "pending", "--json");
        (_, string shown, _) = await Run("node", "--home", _home, "plans", "show", hash[..12]);
        (int approved, _, _) = await Run("node", "--home", _home, "plans", "approve", hash[..12], "--by", "dpo@cleveland", "--note", "IRB 2026-114");
        (_, string audit, _) = await Run("node", "--home", _home, "audit", "--json");

        Assert.That(JsonDocument.Parse(pending).RootElement[0].GetProperty("hash").GetString(), Is.EqualTo(hash));
        Assert.That(shown, Does.Contain("Policy     allows it (dataset 'heart': 199 training rows"));
        Assert.That(approved, Is.Zero);
        Assert.That(JsonDocument.Parse(audit).RootElement.EnumerateArray().Select(e => e.GetProperty("kind").GetString()), Is.EqualTo(new[] { "dataset_registered", "plan_approved" }));
        Assert.That(Node.NodeHome.Open(_home).Approvals.Find(hash)!.Status, Is.EqualTo(Node.ApprovalStatus.Approved));
    }

    [Test]
    public async Task NodeAudit_TamperedLog_ExitsOneAndSaysWhere()
    {
        await Run("node", "--home", _home, "init", "--name", "cleveland");
        await Run("node", "--home", _home, "datasets", "add", "heart", Cleveland);
        await Run("node", "--home", _home, "policy", "set", "--min-count", "20");
        string log = Path.Combine(_home, "audit.log");
        File.WriteAllText(log, File.ReadAllText(log).Replace("303 rows", "30 rows", StringComparison.Ordinal));

        (int code, string output, _) = await Run("node", "--home", _home, "audit", "--verify");

        Assert.That(code, Is.EqualTo(1));
        Assert.That(output, Does.Contain("audit log BROKEN: line 1"));
    }

    [Test]
    public async Task NodePolicySet_ChangesOnlyWhatIsGiven()
    {
        await Run("node", "--home", _home, "init", "--name", "cleveland");

        (int code, string output, _) = await Run("node", "--home", _home, "policy", "set", "--require-dp", "true", "--max-epsilon", "8", "--json");

        JsonElement policy = JsonDocument.Parse(output).RootElement;
        Assert.That(code, Is.Zero);
        Assert.That((policy.GetProperty("requireDifferentialPrivacy").GetBoolean(), policy.GetProperty("maxEpsilon").GetDouble(), policy.GetProperty("minimumCount").GetInt32()), Is.EqualTo((true, 8.0, 10)));
    }

    [Test]
    public async Task Run_UnknownVerbOrMissingArgument_ExitsTwo()
    {
        Assert.That((await Run("node", "frobnicate")).Code, Is.EqualTo(2));
        Assert.That((await Run("plan", "hash")).Code, Is.EqualTo(2));
    }

    [Test]
    public async Task Run_NodeCommandWithoutAHome_SaysHowToCreateOne()
    {
        (int code, _, string error) = await Run("node", "--home", _home, "plans", "pending");

        Assert.That(code, Is.EqualTo(1));
        Assert.That(error, Does.Contain("fedsharp node init"));
    }

    [Test]
    public async Task Help_EveryVerb_HasHelp()
    {
        var context = new CliContext(TextWriter.Null, TextWriter.Null, TimeProvider.System);
        var paths = new List<string[]>();
        void Walk(Command command, string[] path)
        {
            paths.Add(path);
            foreach (Command sub in command.Subcommands)
            {
                Walk(sub, [.. path, sub.Name]);
            }
        }

        Walk(FedsharpCli.Create(context), []);
        foreach (string[] path in paths)
        {
            (int code, string output, _) = await Run([.. path, "--help"]);
            Assert.That(code, Is.Zero, string.Join(" ", path));
            Assert.That(output, Does.Contain("Usage:"), string.Join(" ", path));
        }

        Assert.That(paths, Has.Count.GreaterThan(12));
    }

    private static async Task<(int Code, string Output, string Error)> Run(params string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        int code = await FedsharpCli.RunAsync(args, output, error, new FakeTimeProvider(new DateTimeOffset(2026, 12, 1, 9, 0, 0, TimeSpan.Zero)));
        return (code, output.ToString(), error.ToString());
    }
}
