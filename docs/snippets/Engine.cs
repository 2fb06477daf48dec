using FederatedSharp.Aggregation;
using FederatedSharp.Clients;
using FederatedSharp.Parameters;
using FederatedSharp.Server;
using FederatedSharp.Transport.InMemory;

namespace Snippets;

public static class Engine
{
    public static FederatedServer Composed(InMemoryTransport transport, ModelParameters initial, string folder)
    {
        // snippet: features-compose
        FederatedServer server = new FederatedServerBuilder()
            .UseTransport(transport)
            .UseAggregator(new FedAdam())
            .WithInitialParameters(initial)
            .UseBufferedAsynchronousAggregation(f => { f.BufferSize = 10; f.Concurrency = 20; f.ServerLearningRate = 1; })
            .UseCentralDp(new FederatedSharp.Privacy.DpFedAvgOptions { NoiseMultiplier = 1.0, ClipNorm = 1.0, TotalClients = 1000 })
            .UseCheckpointStore(new FederatedSharp.Server.Checkpoints.FileCheckpointStore(folder))
            .UseAuditLog(new FederatedSharp.Server.Audit.FileAuditLog(Path.Combine(folder, "audit.jsonl")))
            .WithMetricAggregation(m => m.Evaluate["accuracy"] = MetricAggregators.Mean)   // FLamby's per-centre mean
            .Configure(o => { o.Rounds = 200; o.QuarantineAfterFailures = 3; })
            .Build();
        // end snippet
        return server;
    }

    public sealed class ScaffoldLikeClient : IClient
    {
        public Task<ConfigRecord> GetPropertiesAsync(CancellationToken cancellationToken = default) => Task.FromResult(ConfigRecord.Empty);

        // snippet: client-state
        public Task<FitResult> FitAsync(FitInstructions instructions, CancellationToken cancellationToken = default)
        {
            // Lasting per-client values live in the deployment's state, not in fields: a simulation re-creates clients.
            float[] control = instructions.State?.GetFloats("control") ?? new float[instructions.Parameters.Length];
            ModelParameters trained = instructions.Parameters.Clone();
            // ... train, using and updating `control` ...
            instructions.State?.SetFloats("control", control);
            return Task.FromResult(new FitResult(trained, exampleCount: 100));
        }
        // end snippet

        public Task<EvaluateResult> EvaluateAsync(EvaluateInstructions instructions, CancellationToken cancellationToken = default) =>
            Task.FromResult(new EvaluateResult(0, 1));
    }
}
