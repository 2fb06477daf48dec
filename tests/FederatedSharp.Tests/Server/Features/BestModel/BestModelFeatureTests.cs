using FederatedSharp.Aggregation;
using FederatedSharp.Clients;
using FederatedSharp.Parameters;
using FederatedSharp.Server;
using FederatedSharp.Server.Checkpoints;
using FederatedSharp.Tests.TestUtilities;
using FederatedSharp.Transport.InMemory;

namespace FederatedSharp.Tests.Server.Features.BestModel;

/// <summary>UseBestModelSelection: the best round's checkpoint is kept with a checkpoint store.</summary>
public class BestModelFeatureTests
{
    /// <summary>Adds 1 to every parameter per fit; reports an accuracy that depends on the global model it evaluates.</summary>
    private sealed class ScriptedSite(Func<float, double> accuracy) : IClient
    {
        public Task<ConfigRecord> GetPropertiesAsync(CancellationToken cancellationToken = default) => Task.FromResult(ConfigRecord.Empty);

        public Task<FitResult> FitAsync(FitInstructions instructions, CancellationToken cancellationToken = default)
        {
            ModelParameters next = instructions.Parameters.Clone();
            System.Numerics.Tensors.TensorPrimitives.Add(next.Values, 1f, next.Values);
            return Task.FromResult(new FitResult(next, 10));
        }

        public Task<EvaluateResult> EvaluateAsync(EvaluateInstructions instructions, CancellationToken cancellationToken = default)
        {
            float p = instructions.Parameters.Values[0];
            return Task.FromResult(new EvaluateResult(p, 10, new ConfigRecord { ["accuracy"] = accuracy(p) }));
        }
    }

    // Rounds 1..5 leave the model at 1..5; accuracy peaks at the round-3 model.
    private static double Accuracy(float p) => new[] { 0.0, 0.5, 0.7, 0.9, 0.6, 0.8 }[(int)p];

    private static async Task<FederationResult> Run(InMemoryTransport transport, ModelParameters initial, int rounds, BestModelOptions best, ICheckpointStore? checkpoints = null)
    {
        FederatedServerBuilder builder = new FederatedServerBuilder().UseTransport(transport).UseAggregator(new FedAvg()).WithInitialParameters(initial)
            .UseBestModelSelection(best).Configure(o =>
            {
                o.Rounds = rounds;
                o.MinAvailableClients = o.MinFitClients = o.MinEvaluateClients = 1;
            });
        if (checkpoints is not null)
        {
            builder.UseCheckpointStore(checkpoints);
        }

        return await builder.Build().RunAsync().WithTimeout();
    }

    [Test]
    public async Task UseBestModelSelection_MaximisedAccuracy_KeepsTheBestRoundsCheckpoint()
    {
        using var dir = new TempDirectory("best-model-");
        await using var transport = new InMemoryTransport();
        transport.AddClient("a", new ScriptedSite(Accuracy));
        using ModelParameters initial = TestModels.Filled(TestModels.SmallLayout, 0);
        var store = new FileCheckpointStore(dir.Path, keep: 1);

        using FederationResult result = await Run(transport, initial, 5, new BestModelOptions { Store = store, Metric = "accuracy", Maximize = true });

        (FederationCheckpoint? best, _) = await store.LoadLatestAsync();
        using (best)
        {
            Assert.That(best!.Round, Is.EqualTo(3));
            Assert.That(best.Parameters.Values.ToArray(), Is.All.EqualTo(3f), "the round-3 global model");
            Assert.That(result.Parameters.Values[0], Is.EqualTo(5f), "the federation itself ran on");
        }
    }

    [Test]
    public async Task UseBestModelSelection_MinimisedLoss_KeepsTheLowestLossRound()
    {
        using var dir = new TempDirectory("best-model-");
        await using var transport = new InMemoryTransport();
        transport.AddClient("a", new ScriptedSite(Accuracy));
        using ModelParameters initial = TestModels.Filled(TestModels.SmallLayout, 0);
        var store = new FileCheckpointStore(dir.Path, keep: 1);

        using FederationResult result = await Run(transport, initial, 4, new BestModelOptions { Store = store, Metric = "loss", Maximize = false });

        (FederationCheckpoint? best, _) = await store.LoadLatestAsync();
        using (best)
        {
            Assert.That(best!.Round, Is.EqualTo(1), "the loss (the parameter's value) only grows");
        }
    }

    [Test]
    public async Task UseBestModelSelection_ResumedFederation_KeepsComparingWithTheBestBeforeTheCrash()
    {
        using var checkpointDir = new TempDirectory("best-model-");
        using var bestDir = new TempDirectory("best-model-");
        await using var transport = new InMemoryTransport();
        transport.AddClient("a", new ScriptedSite(Accuracy));
        using ModelParameters initial = TestModels.Filled(TestModels.SmallLayout, 0);
        var checkpoints = new FileCheckpointStore(checkpointDir.Path);
        var best = new BestModelOptions { Store = new FileCheckpointStore(bestDir.Path, keep: 1), Metric = "accuracy", Maximize = true };
        (await Run(transport, initial, 3, best, checkpoints)).Dispose();

        using FederationResult resumed = await Run(transport, initial, 5, best, checkpoints);

        (FederationCheckpoint? kept, _) = await best.Store.LoadLatestAsync();
        using (kept)
        {
            Assert.That(resumed.History.Rounds, Has.Count.EqualTo(5));
            Assert.That(kept!.Round, Is.EqualTo(3), "round 5 (0.8) does not beat round 3 (0.9) remembered across the resume");
        }
    }

    [Test]
    public void UseBestModelSelection_EmptyMetric_ThrowsNamingIt()
    {
        using var dir = new TempDirectory("best-model-");
        Assert.That(() => new FederatedServerBuilder().UseBestModelSelection(new BestModelOptions { Store = new FileCheckpointStore(dir.Path), Metric = "", Maximize = true }),
            Throws.ArgumentException.With.Property("ParamName").Contains("Metric"));
    }
}
