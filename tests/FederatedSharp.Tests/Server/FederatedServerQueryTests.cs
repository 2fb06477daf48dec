using FederatedSharp.Aggregation;
using FederatedSharp.Clients;
using FederatedSharp.Parameters;
using FederatedSharp.Server;
using FederatedSharp.Tests.TestUtilities;
using FederatedSharp.Transport.InMemory;

namespace FederatedSharp.Tests.Server;

/// <summary>FederatedServer.QueryAsync: named query tasks over the engine's client-call path.</summary>
public class FederatedServerQueryTests
{
    private sealed class CountingSite(int rows) : IClient
    {
        public Task<ConfigRecord> GetPropertiesAsync(CancellationToken cancellationToken = default) => Task.FromResult(ConfigRecord.Empty);

        public Task<FitResult> FitAsync(FitInstructions instructions, CancellationToken cancellationToken = default) => throw new NotSupportedException();

        public Task<EvaluateResult> EvaluateAsync(EvaluateInstructions instructions, CancellationToken cancellationToken = default) => throw new NotSupportedException();

        public Task<QueryResult> QueryAsync(QueryInstructions instructions, CancellationToken cancellationToken = default)
        {
            if (instructions.Name != "count")
            {
                throw new UnsupportedTaskException("query:" + instructions.Name);
            }

            long calls = instructions.State!.TryGetValue("calls", out ConfigValue v) ? v.AsInt64() + 1 : 1;
            instructions.State.Set("calls", calls);
            double threshold = instructions.Config.GetDouble("above", 0);
            return Task.FromResult(new QueryResult(new ConfigRecord { ["rows"] = (long)rows, ["above"] = threshold, ["calls"] = calls }.Freeze(),
                instructions.Parameters?.Clone()));
        }
    }

    private static FederatedServer Server(InMemoryTransport transport, ModelParameters initial) =>
        new FederatedServerBuilder().UseTransport(transport).UseAggregator(new FedAvg()).WithInitialParameters(initial).Build();

    [Test]
    public async Task QueryAsync_ClientsImplementingTheQuery_AnswerWithConfigStateAndParameters()
    {
        await using var transport = new InMemoryTransport();
        transport.AddClient("a", new CountingSite(12));
        transport.AddClient("b", new CountingSite(30));
        using ModelParameters initial = TestModels.Filled(TestModels.SmallLayout, 2);
        FederatedServer server = Server(transport, initial);

        using QueryRoundResult first = await server.QueryAsync("count", new ConfigRecord { ["above"] = 0.5 }, parameters: initial).WithTimeout();
        using QueryRoundResult second = await server.QueryAsync("count").WithTimeout();

        Assert.Multiple(() =>
        {
            Assert.That(first.Failures, Is.Empty);
            Assert.That(first.Results.Select(r => (r.ClientId, r.Result.Values["rows"].AsInt64())), Is.EqualTo(new[] { ("a", 12L), ("b", 30L) }));
            Assert.That(first.Results[0].Result.Values["above"].AsDouble(), Is.EqualTo(0.5));
            Assert.That(first.Results[0].Result.Parameters!.Values.ToArray(), Is.All.EqualTo(2f));
            Assert.That(second.Results.Select(r => r.Result.Values["calls"].AsInt64()), Is.All.EqualTo(2), "the per-client state persisted between queries");
        });
    }

    [Test]
    public async Task QueryAsync_ClientWithoutTheQuery_FailsAsUnsupportedAndOthersAnswer()
    {
        await using var transport = new InMemoryTransport();
        transport.AddClient("a", new CountingSite(12));
        transport.AddClient("plain", new ShiftClient(1, 10));
        using ModelParameters initial = TestModels.Filled(TestModels.SmallLayout, 0);

        using QueryRoundResult result = await Server(transport, initial).QueryAsync("count").WithTimeout();
        using QueryRoundResult unknown = await Server(transport, initial).QueryAsync("histogram", clientIds: new[] { "a" }).WithTimeout();

        Assert.Multiple(() =>
        {
            Assert.That(result.Results.Select(r => r.ClientId), Is.EqualTo(new[] { "a" }));
            Assert.That(result.Failures.Single().ClientId, Is.EqualTo("plain"));
            Assert.That(result.Failures.Single().Kind, Is.EqualTo(ClientFailureKind.Unsupported));
            Assert.That(result.Failures.Single().Reason, Does.Contain("does not support the task 'query:count'"));
            Assert.That(unknown.Failures.Single().Kind, Is.EqualTo(ClientFailureKind.Unsupported));
            Assert.That(unknown.Failures.Single().Phase, Is.EqualTo(RoundPhase.Query));
        });
    }

    [Test]
    public async Task QueryAsync_CancelledBeforeStart_Throws()
    {
        await using var transport = new InMemoryTransport();
        transport.AddClient("a", new CountingSite(12));
        using ModelParameters initial = TestModels.Filled(TestModels.SmallLayout, 0);
        using var cts = new CancellationTokenSource();
        cts.Cancel();

        Assert.That(async () => await Server(transport, initial).QueryAsync("count", cancellationToken: cts.Token), Throws.InstanceOf<OperationCanceledException>());
    }

    [Test]
    public async Task BuildForQueries_NoStrategyOrModel_AnswersQueriesAndRefusesToTrain()
    {
        await using var transport = new InMemoryTransport();
        transport.AddClient("a", new CountingSite(12));
        FederatedServer server = new FederatedServerBuilder().UseTransport(transport).BuildForQueries();

        using QueryRoundResult result = await server.QueryAsync("count").WithTimeout();

        Assert.That(result.Results.Single().Result.Values["rows"].AsInt64(), Is.EqualTo(12));
        Assert.That(async () => await server.RunAsync(), Throws.InvalidOperationException.With.Message.Contains("BuildForQueries"));
    }

    [Test]
    public void BuildForQueries_NoTransport_ThrowsNamingIt() =>
        Assert.That(() => new FederatedServerBuilder().BuildForQueries(), Throws.InvalidOperationException.With.Message.Contains("UseTransport"));
}
