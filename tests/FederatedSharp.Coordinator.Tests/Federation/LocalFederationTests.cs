using System.Net;
using System.Text.Json;
using FederatedSharp.Coordinator.Nodes;
using FederatedSharp.Coordinator.Store;
using FederatedSharp.Coordinator.Tests.TestUtilities;
using FederatedSharp.Node;
using FederatedSharp.Plans;
using FederatedSharp.Serialization;
using FederatedSharp.Server;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace FederatedSharp.Coordinator.Tests.Federation;

/// <summary>A coordinator and four enrolled nodes on loopback, all in this process, over mutual TLS.</summary>
public sealed class LocalFederationTests
{
    [Test]
    public async Task HeartDiseaseJob_ThreeSitesApproved_RunsOnThoseThreeAndEqualsTheSimulationBitForBit()
    {
        await using LocalFederation federation = await LocalFederation.StartAsync(LocalFederation.Sites);
        foreach (string site in new[] { "cleveland", "hungary", "switzerland" })
        {
            federation.Approve(site, LocalFederation.PlanJson);
            federation.Nodes[site].SavePolicy(new SitePolicy { AllowExport = site != "switzerland" });
        }

        foreach (string site in LocalFederation.Sites)
        {
            federation.StartAgent(site);
        }

        await federation.WaitConnectedAsync(LocalFederation.Sites);
        using HttpClient researcher = await federation.ClientAsync(Role.Researcher, "dr.lee");

        string job = await LocalFederation.SubmitAsync(researcher, LocalFederation.PlanJson);
        JsonElement status = await federation.WaitEndedAsync(researcher, job);

        Assert.That(status.GetProperty("job").GetProperty("status").GetString(), Is.EqualTo("succeeded"), status.ToString());
        var decisions = status.GetProperty("decisions").EnumerateArray().ToDictionary(d => d.GetProperty("node").GetString()!, d => d.GetProperty("decision").GetString());
        Assert.That(decisions, Is.EqualTo(new Dictionary<string, string?> { ["cleveland"] = "accepted", ["hungary"] = "accepted", ["switzerland"] = "accepted", ["va"] = "pending_approval" }));
        Assert.That(status.GetProperty("history").GetArrayLength(), Is.EqualTo(15));
        Assert.That(federation.Nodes["va"].Approvals.Pending().Single().Hash, Is.EqualTo(TrainingPlan.Parse(LocalFederation.PlanJson).Hash));

        // The same plan in simulation on the same three sites.
        TrainingPlan plan = TrainingPlan.Parse(LocalFederation.PlanJson);
        using FederationResult simulated = await PlanSimulation.RunAsync(plan, new[] { "cleveland", "hungary", "switzerland" }.ToDictionary(s => s, LocalFederation.Table));
        byte[] file = await File.ReadAllBytesAsync(Path.Combine(federation.Home.ModelsDirectory, job + ".safetensors"));
        using Parameters.ModelParameters trained = new SafetensorsSerializer().Deserialize(new System.Buffers.ReadOnlySequence<byte>(file));
        Assert.That(trained.Values.ToArray(), Is.EqualTo(simulated.Parameters.Values.ToArray()));

        // switzerland's policy forbids export.
        using HttpResponseMessage download = await researcher.GetAsync($"/api/jobs/{job}/model");
        Assert.That(download.StatusCode, Is.EqualTo(HttpStatusCode.Forbidden));
        Assert.That(await download.Content.ReadAsStringAsync(), Does.Contain("the policy of switzerland forbids export"));
    }

    [Test]
    public async Task Coordinator_RestartedMidJob_ResumesFromItsCheckpointsToTheSameModel()
    {
        // 100 rounds instead of the plan's 15: the rounds go on while the test reacts to the fourth, and with 15 a loaded
        // machine once saw the job end before the restart.
        const int Rounds = 100;
        string planJson = LocalFederation.PlanJson.Replace("\"rounds\": 15", $"\"rounds\": {Rounds}", StringComparison.Ordinal);
        Assert.That(planJson, Does.Contain($"\"rounds\": {Rounds}"));
        await using LocalFederation federation = await LocalFederation.StartAsync("cleveland", "hungary", "switzerland");
        foreach (string site in federation.Nodes.Keys)
        {
            federation.Approve(site, planJson);
            federation.StartAgent(site);
        }

        await federation.WaitConnectedAsync([.. federation.Nodes.Keys]);
        HttpClient researcher = await federation.ClientAsync(Role.Researcher, "dr.lee");
        string token = researcher.DefaultRequestHeaders.Authorization!.Parameter!;
        string job = await LocalFederation.SubmitAsync(researcher, planJson);
        await federation.WaitRoundsAsync(job, 4);

        Assert.That(await RoundsDoneAsync(federation, job), Is.InRange(4, Rounds - 1), "the coordinator stops in the middle of the job");

        researcher.Dispose();
        await federation.RestartCoordinatorAsync();
        using HttpClient again = federation.Client(token);
        JsonElement status = await federation.WaitEndedAsync(again, job);

        Assert.That(status.GetProperty("job").GetProperty("status").GetString(), Is.EqualTo("succeeded"), status.ToString());
        JsonElement[] runs = [.. status.GetProperty("runs").EnumerateArray()];
        Assert.That(runs.Select(r => r.GetProperty("status").GetString()), Is.EqualTo(new[] { "failed", "succeeded" }));
        Assert.That(runs[0].GetProperty("error").GetString(), Does.Contain("coordinator stopped"));
        Assert.That(status.GetProperty("history").EnumerateArray().First().GetProperty("round").GetInt32(), Is.GreaterThan(1), "the second run resumed from a checkpoint");
        TrainingPlan plan = TrainingPlan.Parse(planJson);
        using FederationResult simulated = await PlanSimulation.RunAsync(plan, federation.Nodes.Keys.ToDictionary(s => s, LocalFederation.Table));
        byte[] file = await File.ReadAllBytesAsync(Path.Combine(federation.Home.ModelsDirectory, job + ".safetensors"));
        using Parameters.ModelParameters trained = new SafetensorsSerializer().Deserialize(new System.Buffers.ReadOnlySequence<byte>(file));
        Assert.That(trained.Values.ToArray(), Is.EqualTo(simulated.Parameters.Values.ToArray()));
    }

    private static async Task<int> RoundsDoneAsync(LocalFederation federation, string job) =>
        (await federation.Host.Store.ListRunsAsync(job)).FirstOrDefault() is { } run ? (await federation.Host.Store.ListRoundsAsync(run.Id)).Count : 0;

    [Test]
    public async Task Revoke_ConnectedNode_EndsItsSessionAndItCannotRejoin()
    {
        await using LocalFederation federation = await LocalFederation.StartAsync("cleveland");
        NodeAgent agent = federation.StartAgent("cleveland");
        await federation.WaitConnectedAsync("cleveland");

        await federation.Host.Services.GetRequiredService<NodeRegistry>().RevokeAsync("cleveland", "admin", "laptop stolen");

        var refused = await Assert.ThrowsAsync<NodeRefusedException>(async () => await federation.AgentRun("cleveland").WaitAsync(TimeSpan.FromSeconds(30)));
        Assert.That(refused!.Message, Does.Contain("revoked"));
        Assert.That(agent.IsConnected, Is.False);
        var again = new NodeAgent(federation.Nodes["cleveland"]);
        var second = await Assert.ThrowsAsync<NodeRefusedException>(async () => await again.RunAsync().WaitAsync(TimeSpan.FromSeconds(30)));
        Assert.That(second!.Message, Does.Contain("revoked: laptop stolen"));
    }

    [Test]
    public async Task AddFederatedNode_InAGenericHost_ConnectsWhileTheHostRuns()
    {
        await using LocalFederation federation = await LocalFederation.StartAsync("cleveland");
        HostApplicationBuilder builder = Microsoft.Extensions.Hosting.Host.CreateApplicationBuilder();
        builder.Services.AddFederatedNode(federation.Nodes["cleveland"].Directory);
        using IHost host = builder.Build();

        var sessions = (NodeSessions)federation.Host.Services.GetRequiredService(typeof(NodeSessions));
        var gone = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        sessions.Disconnected += node => gone.TrySetResult();
        await host.StartAsync();
        await federation.WaitConnectedAsync("cleveland");

        await host.StopAsync();
        await Task.WhenAny(gone.Task, Task.Delay(TimeSpan.FromSeconds(30)));

        Assert.That(sessions.Nodes, Is.Empty);
    }

    [TestCase(false, "not valid for this coordinator")]
    [TestCase(true, "expired")]
    public async Task Connect_ForeignOrExpiredCertificate_Refused(bool expired, string reason)
    {
        await using LocalFederation federation = await LocalFederation.StartAsync();
        string directory = Path.Combine(Path.GetTempPath(), "fedsharp-rogue-" + Guid.NewGuid().ToString("N"));
        try
        {
            NodeHome node = NodeHome.Create(directory, "rogue");
            string csr = NodeCredentials.GetOrCreateSigningRequest(node);
            // Expired: the coordinator's own CA, dated at its creation, issues a certificate valid for a millisecond.
            using var caCertificate = FederatedSharp.Grpc.Security.FederationCertificates.LoadCertificatePem(federation.Home.AuthorityCertificatePath);
            var issued = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(new DateTimeOffset(caCertificate.NotBefore.ToUniversalTime()).AddMinutes(5));
            using FederatedSharp.Grpc.Security.FederationCertificateAuthority issuer = expired
                ? federation.Home.LoadAuthority(issued)
                : FederatedSharp.Grpc.Security.FederationCertificateAuthority.Create("rogue CA");
            using System.Security.Cryptography.X509Certificates.X509Certificate2 certificate = issuer.SignClientRequest(csr, "rogue", expired ? TimeSpan.FromMilliseconds(1) : TimeSpan.FromDays(1));
            File.WriteAllText(Path.Combine(node.KeysDirectory, "node.crt"), certificate.ExportCertificatePem());
            File.Copy(federation.Home.AuthorityCertificatePath, Path.Combine(node.KeysDirectory, "ca.crt"));
            node.Identity.Coordinator = federation.Host.Address.ToString();
            node.SaveIdentity();

            var e = await Assert.ThrowsAsync<NodeRefusedException>(async () => await new NodeAgent(node).RunAsync().WaitAsync(TimeSpan.FromSeconds(30)));

            Assert.That(e!.Message, Does.Contain(reason));
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Test]
    public async Task Api_WithoutTokenOrWithTheWrongRole_401And403()
    {
        await using LocalFederation federation = await LocalFederation.StartAsync();
        using HttpClient anonymous = federation.Client(null);
        using HttpClient viewer = await federation.ClientAsync(Role.Viewer, "auditor");
        using HttpClient bogus = federation.Client("fsa_not-a-token");

        Assert.That((await anonymous.GetAsync("/api/jobs")).StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized));
        Assert.That((await bogus.GetAsync("/api/jobs")).StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized));
        Assert.That((await viewer.GetAsync("/api/jobs")).StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That((await viewer.PostAsync("/api/nodes/x/approve", null)).StatusCode, Is.EqualTo(HttpStatusCode.Forbidden));

        using HttpClient admin = federation.Client(federation.AdminToken);
        Assert.That((await admin.PostAsync("/api/tokens/auditor/revoke", null)).StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That((await viewer.GetAsync("/api/jobs")).StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized), "a revoked token stops working");
    }
}
