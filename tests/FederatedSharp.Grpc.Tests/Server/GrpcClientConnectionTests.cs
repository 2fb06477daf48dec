using FederatedSharp.Aggregation;
using FederatedSharp.Clients;
using FederatedSharp.Grpc.Hosting;
using FederatedSharp.Grpc.Tests.TestUtilities;
using FederatedSharp.Parameters;
using FederatedSharp.Server;

namespace FederatedSharp.Grpc.Tests.Server;

/// <summary>Query tasks over gRPC with mutual TLS: answered with values, state and parameters; refused as unsupported.</summary>
public class GrpcClientConnectionTests
{
    private sealed class QueryingClient(IClient inner) : IClient
    {
        public Task<ConfigRecord> GetPropertiesAsync(CancellationToken cancellationToken = default) => inner.GetPropertiesAsync(cancellationToken);

        public Task<FitResult> FitAsync(FitInstructions instructions, CancellationToken cancellationToken = default) => inner.FitAsync(instructions, cancellationToken);

        public Task<EvaluateResult> EvaluateAsync(EvaluateInstructions instructions, CancellationToken cancellationToken = default) => inner.EvaluateAsync(instructions, cancellationToken);

        public Task<QueryResult> QueryAsync(QueryInstructions instructions, CancellationToken cancellationToken = default)
        {
            if (instructions.Name != "sum")
            {
                throw new UnsupportedTaskException("query:" + instructions.Name);
            }

            long calls = instructions.State!.TryGetValue("calls", out ConfigValue v) ? v.AsInt64() + 1 : 1;
            instructions.State.Set("calls", calls);
            double sum = instructions.Parameters is { } p ? p.Values.ToArray().Sum() : 0;
            ModelParameters? doubled = instructions.Parameters?.Clone();
            if (doubled is not null)
            {
                foreach (ref float x in doubled.Values)
                {
                    x *= 2;
                }
            }

            return Task.FromResult(new QueryResult(new ConfigRecord { ["sum"] = sum, ["calls"] = calls }.Freeze(), doubled));
        }
    }

    [Test]
    public async Task QueryAsync_OverMutualTls_AnswersWithValuesStateAndParametersOrUnsupported()
    {
        await using GrpcFederationHost host = await TestFederation.StartMutualTlsAsync();
        using var stop = new CancellationTokenSource();
        Task querying = TestFederation.Runner(TestFederation.MutualTlsClient(host, "site-q")).RunAsync(new QueryingClient(new TargetClient(1, 1)), stop.Token);
        Task plain = TestFederation.Runner(TestFederation.MutualTlsClient(host, "site-p")).RunAsync(new TargetClient(1, 1), stop.Token);
        await host.Transport.WaitForClientsAsync(2).WithTimeout();
        using ModelParameters model = ModelParameters.FromValues(TensorLayout.Create(new TensorSpec("w", 3)), new float[] { 1, 2, 3.5f });
        FederatedServer server = new FederatedServerBuilder().UseTransport(host.Transport).UseAggregator(new FedAvg()).WithInitialParameters(model).Build();

        using QueryRoundResult first = await server.QueryAsync("sum", parameters: model).WithTimeout();
        using QueryRoundResult second = await server.QueryAsync("sum", clientIds: new[] { "site-q" }).WithTimeout();
        using QueryRoundResult unknown = await server.QueryAsync("histogram", clientIds: new[] { "site-q" }).WithTimeout();

        Assert.Multiple(() =>
        {
            ClientQueryResult answer = first.Results.Single();
            Assert.That(answer.ClientId, Is.EqualTo("site-q"));
            Assert.That(answer.Result.Values["sum"].AsDouble(), Is.EqualTo(6.5));
            Assert.That(answer.Result.Parameters!.Values.ToArray(), Is.EqualTo(new float[] { 2, 4, 7 }));
            Assert.That(first.Failures.Single().ClientId, Is.EqualTo("site-p"));
            Assert.That(first.Failures.Single().Kind, Is.EqualTo(ClientFailureKind.Unsupported));
            Assert.That(second.Results.Single().Result.Values["calls"].AsInt64(), Is.EqualTo(2), "the runner's client state persisted");
            Assert.That(second.Results.Single().Result.Parameters, Is.Null);
            Assert.That(unknown.Failures.Single().Kind, Is.EqualTo(ClientFailureKind.Unsupported));
            Assert.That(unknown.Failures.Single().Reason, Does.Contain("query:histogram"));
        });
        await host.DisposeAsync();
        await Task.WhenAll(querying, plain).WithTimeout();
    }
}
