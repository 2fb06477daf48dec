using System.Text.Json;
using FederatedSharp.Analytics;
using FederatedSharp.Cli.Tests.TestUtilities;
using FederatedSharp.Parameters;
using FederatedSharp.Plans;
using FederatedSharp.Serialization;
using FederatedSharp.Server;

namespace FederatedSharp.Cli.Tests.EndToEnd;

/// <summary>
/// The issue's end-to-end test, as users run it: a coordinator process and four node processes on loopback, every step
/// through the <c>fedsharp</c> command line.
/// </summary>
public sealed class LocalFederationProcessTests
{
    private static readonly string[] Sites = ["cleveland", "hungary", "switzerland", "va"];
    private static readonly string PlanFile = Path.Combine(AppContext.BaseDirectory, "plans", "heart-disease.plan.json");
    private readonly List<FedsharpProcess> _processes = [];
    private string _root = null!;

    [SetUp]
    public void SetUp() => _root = Path.Combine(Path.GetTempPath(), "fedsharp-e2e-" + Guid.NewGuid().ToString("N"));

    [TearDown]
    public void TearDown()
    {
        foreach (FedsharpProcess process in _processes)
        {
            process.Dispose();
        }

        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    [Test]
    public async Task CoordinatorAndFourNodeProcesses_RunTheApprovedPlanOnThreeAndRefuseTheRest()
    {
        string coordinatorHome = Path.Combine(_root, "coordinator");
        string admin = (await Cli("coordinator", "--home", coordinatorHome, "init", "--admin", "admin", "--json")).GetProperty("token").GetString()!;
        string ca = Path.Combine(coordinatorHome, "ca.crt");
        int port = FedsharpProcess.FreePort();
        FedsharpProcess coordinator = Start("coordinator", "--home", coordinatorHome, "run", "--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--acceptance-timeout", "8", "--reoffer-interval", "1");
        await coordinator.WaitForAsync("coordinator listening", TimeSpan.FromSeconds(60));
        string url = $"https://localhost:{port}";
        string[] remote = ["--coordinator", url, "--ca", ca];
        string hash = TrainingPlan.Load(PlanFile).Hash;

        var nodes = new Dictionary<string, FedsharpProcess>(StringComparer.Ordinal);
        foreach (string site in Sites)
        {
            string home = Path.Combine(_root, site);
            await Cli("node", "--home", home, "init", "--name", site);
            await Cli("node", "--home", home, "datasets", "add", "heart", Path.Combine(AppContext.BaseDirectory, "data", site + ".csv"));
            string token = (await Cli(["ca", "token", site, "--token", admin, "--json", .. remote])).GetProperty("token").GetString()!;
            await Cli("node", "--home", home, "enrol", "--coordinator", url, "--token", token, "--ca", ca);
            await Cli(["ca", "approve", site, "--token", admin, .. remote]);
            if (site != "va")
            {
                await Cli("node", "--home", home, "plans", "add", PlanFile, "--dataset", "heart");
                await Cli("node", "--home", home, "plans", "approve", hash[..12], "--by", "dpo@" + site, "--note", "IRB 2026-114");
                await Cli("node", "--home", home, "policy", "set", "--allow-export", site == "switzerland" ? "false" : "true");
            }

            nodes[site] = Start("node", "--home", home, "run");
        }

        foreach (FedsharpProcess node in nodes.Values)
        {
            await node.WaitForAsync("connecting to", TimeSpan.FromSeconds(60));
        }

        string researcher = (await Cli(["token", "issue", "dr.lee", "--role", "researcher", "--token", admin, "--json", .. remote])).GetProperty("token").GetString()!;
        string[] asResearcher = ["--token", researcher, .. remote];

        // The approved plan: runs on the three sites that approved it; the fourth records "pending approval".
        string job = (await Cli(["job", "submit", PlanFile, "--datasets", "heart", "--min-nodes", "3", "--json", .. asResearcher])).GetProperty("id").GetString()!;
        Assert.That(await CliCode(["job", "watch", job, .. asResearcher]), Is.Zero, coordinator.Output);
        JsonElement status = await Cli(["job", "status", job, "--json", .. asResearcher]);
        var decisions = status.GetProperty("decisions").EnumerateArray().ToDictionary(d => d.GetProperty("node").GetString()!, d => d.GetProperty("decision").GetString()!);
        Assert.That(decisions, Is.EqualTo(new Dictionary<string, string> { ["cleveland"] = "accepted", ["hungary"] = "accepted", ["switzerland"] = "accepted", ["va"] = "pending_approval" }));
        Assert.That(status.GetProperty("decisions").EnumerateArray().Single(d => d.GetProperty("node").GetString() == "va").GetProperty("reason").GetString(), Does.StartWith("pending approval"));

        // Bit for bit the simulation of the same plan on those three sites.
        using FederationResult simulated = await PlanSimulation.RunAsync(TrainingPlan.Load(PlanFile), Sites[..3].ToDictionary(s => s, Table));
        byte[] model = await File.ReadAllBytesAsync(Path.Combine(coordinatorHome, "models", job + ".safetensors"));
        using ModelParameters trained = new SafetensorsSerializer().Deserialize(new System.Buffers.ReadOnlySequence<byte>(model));
        Assert.That(trained.Values.ToArray(), Is.EqualTo(simulated.Parameters.Values.ToArray()));

        // switzerland's policy forbids export: the download is refused.
        (int download, string refusal) = await CliResult(["job", "download", job, "-o", Path.Combine(_root, "model.safetensors"), .. asResearcher]);
        Assert.That(download, Is.EqualTo(1));
        Assert.That(refusal, Does.Contain("the policy of switzerland forbids export"));

        // One hyperparameter changed: a new hash that no site approved, so it runs nowhere.
        string changed = Path.Combine(_root, "changed.plan.json");
        await File.WriteAllTextAsync(changed, (await File.ReadAllTextAsync(PlanFile)).Replace("\"learningRate\": 0.001", "\"learningRate\": 0.002", StringComparison.Ordinal));
        string second = (await Cli(["job", "submit", changed, "--datasets", "heart", "--min-nodes", "3", "--json", .. asResearcher])).GetProperty("id").GetString()!;
        Assert.That(await CliCode(["job", "watch", second, .. asResearcher]), Is.EqualTo(1));
        JsonElement refused = await Cli(["job", "status", second, "--json", .. asResearcher]);
        Assert.That(refused.GetProperty("job").GetProperty("statusReason").GetString(), Does.StartWith("0 node(s) accepted, 3 needed"));
        Assert.That(refused.GetProperty("runs").GetArrayLength(), Is.Zero);

        // A revoked node is cut off and cannot join again.
        await Cli(["ca", "revoke", "va", "--reason", "decommissioned", "--token", admin, .. remote]);
        Assert.That(await nodes["va"].WaitForExitAsync(TimeSpan.FromSeconds(60)), Is.EqualTo(1));
        Assert.That(nodes["va"].Output, Does.Contain("revoked"));
        FedsharpProcess again = Start("node", "--home", Path.Combine(_root, "va"), "run");
        Assert.That(await again.WaitForExitAsync(TimeSpan.FromSeconds(60)), Is.EqualTo(1));
        Assert.That(again.Output, Does.Contain("revoked: decommissioned"));
        Assert.That(NodeKeysAbsentFrom(coordinatorHome), Is.True, "no node's private key is in the coordinator's files");
        (int audit, string trail) = await CliResult(["audit", "--token", admin, .. remote]);
        Assert.That(audit, Is.Zero, trail);
        Assert.That(trail, Does.Contain("node.revoked").And.Contain("model.download_refused").And.Contain("chain intact"));
    }

    // Neither a node's private scalar (raw bytes) nor its PEM body appears in any file the coordinator holds.
    private bool NodeKeysAbsentFrom(string coordinatorHome)
    {
        var secrets = new List<byte[]>();
        foreach (string site in Sites)
        {
            string pem = File.ReadAllText(Path.Combine(_root, site, "keys", "node.key"));
            using var key = System.Security.Cryptography.ECDsa.Create();
            key.ImportFromPem(pem);
            secrets.Add(key.ExportParameters(includePrivateParameters: true).D!);
            secrets.Add(System.Text.Encoding.ASCII.GetBytes(string.Concat(pem.Split('\n').Where(l => !l.StartsWith("-----", StringComparison.Ordinal)).Select(l => l.Trim()))));
        }

        return Directory.EnumerateFiles(coordinatorHome, "*", SearchOption.AllDirectories)
            .Select(File.ReadAllBytes)
            .All(bytes => secrets.All(secret => bytes.AsSpan().IndexOf(secret) < 0));
    }

    private static TabularDataset Table(string site)
    {
        string csv = Path.Combine(AppContext.BaseDirectory, "data", site + ".csv");
        return TabularDataset.LoadCsv(csv, CsvSchema.FromHeader(File.ReadLines(csv).First().Split(',')));
    }

    private FedsharpProcess Start(params string[] args)
    {
        FedsharpProcess process = FedsharpProcess.Start(args);
        _processes.Add(process);
        return process;
    }

    private static async Task<JsonElement> Cli(params string[] args)
    {
        (int code, string output) = await CliResult(args);
        Assert.That(code, Is.Zero, $"fedsharp {string.Join(" ", args)}:\n{output}");
        return args.Contains("--json") ? JsonDocument.Parse(output).RootElement.Clone() : default;
    }

    private static async Task<int> CliCode(params string[] args) => (await CliResult(args)).Code;

    private static async Task<(int Code, string Output)> CliResult(params string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        int code = await FedsharpCli.RunAsync(args, output, error, TimeProvider.System);
        return (code, output.ToString() + error);
    }
}
