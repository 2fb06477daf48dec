using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using FederatedSharp.Analytics;
using FederatedSharp.Coordinator.Nodes;
using FederatedSharp.Coordinator.Security;
using FederatedSharp.Coordinator.Store;
using FederatedSharp.Node;
using Microsoft.Extensions.DependencyInjection;

namespace FederatedSharp.Coordinator.Tests.TestUtilities;

/// <summary>A coordinator and enrolled nodes on loopback, each with its own home in a temporary folder.</summary>
internal sealed class LocalFederation : IAsyncDisposable
{
    public static readonly string[] Sites = ["cleveland", "hungary", "switzerland", "va"];
    private readonly string _root = Path.Combine(Path.GetTempPath(), "fedsharp-federation-" + Guid.NewGuid().ToString("N"));
    private readonly Dictionary<string, (NodeAgent Agent, Task Run, CancellationTokenSource Stop)> _agents = new(StringComparer.Ordinal);

    private LocalFederation()
    {
    }

    public CoordinatorHome Home { get; private set; } = null!;

    /// <summary>The coordinator's and the nodes' log lines, printed when the test fails.</summary>
    public MemoryLog Log { get; } = new();

    public CoordinatorHost Host { get; private set; } = null!;

    public string AdminToken { get; private set; } = "";

    public Dictionary<string, NodeHome> Nodes { get; } = new(StringComparer.Ordinal);

    public static string PlanJson => File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "plans", "heart-disease.plan.json"));

    public static TabularDataset Table(string site) => TabularDataset.LoadCsv(Csv(site), CsvSchema.FromHeader(File.ReadLines(Csv(site)).First().Split(',')));

    public static async Task<LocalFederation> StartAsync(params string[] sites)
    {
        var federation = new LocalFederation();
        (federation.Home, federation.AdminToken) = await CoordinatorHome.InitializeAsync(Path.Combine(federation._root, "coordinator"), "admin");
        federation.Host = await CoordinatorHost.StartAsync(federation.Home, options: Options, loggerFactory: federation.Log);
        foreach (string site in sites)
        {
            await federation.EnrolAsync(site);
        }

        return federation;
    }

    /// <summary>Stops the coordinator abruptly (no job finishes) and starts it again on the same port from its home.</summary>
    public async Task RestartCoordinatorAsync()
    {
        int port = Host.Address.Port;
        await Host.DisposeAsync();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Host = await CoordinatorHost.StartAsync(Home, port: port, options: Options, loggerFactory: Log);
    }

    private static CoordinatorOptions Options => new()
    {
        AcceptanceTimeout = TimeSpan.FromSeconds(20), ReofferInterval = TimeSpan.FromSeconds(1), AnswerGrace = TimeSpan.FromSeconds(5), PollInterval = TimeSpan.FromMilliseconds(100),
    };

    public async Task<NodeHome> EnrolAsync(string site)
    {
        NodeHome node = await RequestEnrolmentAsync(site);
        var registry = Host.Services.GetRequiredService<NodeRegistry>();
        await registry.ApproveAsync(site, "admin");
        Assert.That(await NodeEnrolment.FetchCertificateAsync(node), Is.EqualTo("issued"));
        Nodes[site] = node;
        return node;
    }

    /// <summary>A node that asked to enrol with its one-time token; no admin has approved it yet.</summary>
    public async Task<NodeHome> RequestEnrolmentAsync(string site)
    {
        NodeHome node = NodeHome.Create(Path.Combine(_root, site), site);
        node.Datasets.Register("heart", Csv(LocalFederation.Sites.Contains(site) ? site : Sites[0]));
        var registry = Host.Services.GetRequiredService<NodeRegistry>();
        string token = await registry.CreateEnrolmentTokenAsync(site, TimeSpan.FromHours(1), "admin");
        await NodeEnrolment.RequestAsync(node, Host.Address, token, File.ReadAllText(Home.AuthorityCertificatePath));
        return node;
    }

    public void Approve(string site, string planJson)
    {
        NodeHome node = Nodes[site];
        PlanApproval record = node.Approvals.Receive(Plans.TrainingPlan.Parse(planJson), ["heart"], "test");
        node.Approvals.Approve(record.Hash, null, "dpo@" + site, "IRB");
    }

    public NodeAgent StartAgent(string site)
    {
        var agent = new NodeAgent(Nodes[site], Log);
        var stop = new CancellationTokenSource();
        _agents[site] = (agent, agent.RunAsync(stop.Token), stop);
        return agent;
    }

    public Task AgentRun(string site) => _agents[site].Run;

    public async Task WaitConnectedAsync(params string[] sites)
    {
        var sessions = (NodeSessions)Host.Services.GetRequiredService(typeof(NodeSessions));
        var all = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        void Check(string _)
        {
            if (sites.All(sessions.Nodes.Contains))
            {
                all.TrySetResult();
            }
        }

        sessions.Connected += Check;
        try
        {
            Check("");
            await Task.WhenAny(all.Task, Task.Delay(TimeSpan.FromSeconds(30)));
        }
        finally
        {
            sessions.Connected -= Check;
        }

        Assert.That(sessions.Nodes, Is.SupersetOf(sites), "every node connected");
    }

    public async Task<HttpClient> ClientAsync(Role role, string principal)
    {
        string token = role == Role.Admin ? AdminToken : await ApiTokens.IssueAsync(Host.Store, principal, role, TimeSpan.FromDays(1), "admin", TimeProvider.System);
        return Client(token);
    }

    public HttpClient Client(string? token)
    {
        var handler = new HttpClientHandler { ServerCertificateCustomValidationCallback = FederatedSharp.Grpc.Security.FederationCertificates.ServerValidator(
            FederatedSharp.Grpc.Security.FederationCertificates.LoadCertificatePem(Home.AuthorityCertificatePath)).Invoke };
        var client = new HttpClient(handler) { BaseAddress = Host.Address };
        if (token is not null)
        {
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }

        return client;
    }

    public static async Task<string> SubmitAsync(HttpClient client, string planJson, int minNodes = 3)
    {
        using HttpResponseMessage response = await client.PostAsJsonAsync("/api/jobs", new { plan = JsonDocument.Parse(planJson).RootElement, datasets = new[] { "heart" }, minNodes });
        string body = await response.Content.ReadAsStringAsync();
        Assert.That(response.IsSuccessStatusCode, Is.True, body);
        return JsonDocument.Parse(body).RootElement.GetProperty("id").GetString()!;
    }

    /// <summary>Waits for the job to end (the runner says so), then reads its status through the API.</summary>
    public async Task<JsonElement> WaitEndedAsync(HttpClient client, string job)
    {
        var runner = (Jobs.JobRunner)Host.Services.GetRequiredService(typeof(Jobs.JobRunner));
        var ended = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        void OnEnded(string id, JobStatus _)
        {
            if (id == job)
            {
                ended.TrySetResult();
            }
        }

        runner.JobEnded += OnEnded;
        try
        {
            if ((await Host.Store.GetJobAsync(job))?.Status is JobStatus.Queued or JobStatus.Running)
            {
                await Task.WhenAny(ended.Task, Task.Delay(TimeSpan.FromMinutes(3)));
            }
        }
        finally
        {
            runner.JobEnded -= OnEnded;
        }

        JsonElement status = JsonDocument.Parse(await client.GetStringAsync($"/api/jobs/{job}")).RootElement;
        Assert.That(status.GetProperty("job").GetProperty("status").GetString(), Is.AnyOf("succeeded", "failed", "cancelled"), $"job {job} did not end within 3 minutes");
        return status;
    }

    /// <summary>Waits until the job's run has stored <paramref name="rounds"/> rounds.</summary>
    public async Task WaitRoundsAsync(string job, int rounds)
    {
        var runner = (Jobs.JobRunner)Host.Services.GetRequiredService(typeof(Jobs.JobRunner));
        var reached = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        void OnRound(string id, int round)
        {
            if (id == job && round >= rounds)
            {
                reached.TrySetResult();
            }
        }

        runner.RoundRecorded += OnRound;
        try
        {
            await Task.WhenAny(reached.Task, Task.Delay(TimeSpan.FromMinutes(3)));
        }
        finally
        {
            runner.RoundRecorded -= OnRound;
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (TestContext.CurrentContext.Result.Outcome.Status == NUnit.Framework.Interfaces.TestStatus.Failed)
        {
            await TestContext.Out.WriteLineAsync("The federation's log:\n" + string.Join('\n', Log.Lines));
        }

        foreach ((NodeAgent _, Task run, CancellationTokenSource stop) in _agents.Values)
        {
            await stop.CancelAsync();
            try
            {
                await run;
            }
            catch (Exception e) when (e is OperationCanceledException or NodeRefusedException)
            {
            }
        }

        await Host.DisposeAsync();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private static string Csv(string site) => Path.Combine(AppContext.BaseDirectory, "data", "heart-disease", site + ".csv");
}
