using FederatedSharp.Aggregation;
using FederatedSharp.Clients;
using FederatedSharp.Compression;
using FederatedSharp.Parameters;
using FederatedSharp.Server;
using FederatedSharp.Tests.TestUtilities;
using FederatedSharp.Transport.InMemory;

namespace FederatedSharp.Tests.Server.Features.PartialUpdates;

/// <summary>Partial updates: results with some of the model's tensors are completed from the model before validation.</summary>
public class PartialUpdatesFeatureTests
{
    private static readonly TensorLayout Layout = TensorLayout.Create(new TensorSpec("body", [6]), new TensorSpec("head", [2, 2]));

    private static async Task<FederationResult> RunAsync(Func<int, IClient> client, bool partial, Action<FederatedServerBuilder>? configure = null, int rounds = 1)
    {
        await using var transport = new InMemoryTransport();
        for (int i = 0; i < 3; i++)
        {
            transport.AddClient($"c{i}", client(i));
        }

        using ModelParameters initial = TestModels.Random(Layout, 4, 1f);
        FederatedServerBuilder builder = new FederatedServerBuilder().UseTransport(transport).UseAggregator(new FedAvg()).WithInitialParameters(initial)
            .Configure(o => { o.Rounds = rounds; o.MinAvailableClients = 3; o.MinFitClients = 1; o.Seed = 1; });
        if (partial)
        {
            builder.UsePartialUpdates();
        }

        // After UsePartialUpdates: the stages' order must not depend on the order features were added.
        configure?.Invoke(builder);

        return await builder.Build().RunAsync().WithTimeout();
    }

    [Test]
    public async Task RunAsync_HeadOnlyUpdates_TrainTheHeadAndKeepTheBody()
    {
        using ModelParameters initial = TestModels.Random(Layout, 4, 1f);
        using FederationResult result = await RunAsync(i => new PartialClient(i + 1, Layout.Tensors[1]), partial: true);

        Assert.Multiple(() =>
        {
            Assert.That(result.Parameters.GetTensor("body").ToArray(), Is.EqualTo(initial.GetTensor("body").ToArray()).Within(1e-6f), "the mean of three copies of itself");
            Assert.That(result.Parameters.GetTensor("head").ToArray(), Is.EqualTo(initial.GetTensor("head").ToArray().Select(v => v + 2f).ToArray()).Within(1e-6f), "mean shift of 1, 2, 3");
            Assert.That(result.History.Rounds[0].Failures, Is.Empty);
        });
    }

    [Test]
    public async Task RunAsync_WithoutTheFeature_RejectsPartialUpdates()
    {
        FederationFailedException? ex = await Assert.ThrowsAsync<FederationFailedException>(() => RunAsync(i => new PartialClient(1, Layout.Tensors[1]), partial: false));

        Assert.That(ex!.History.Rounds[0].Failures.Select(f => f.Reason), Has.All.Contains("layout").IgnoreCase);
    }

    [Test]
    public async Task RunAsync_TensorOfAnotherShape_IsRejectedNamingIt()
    {
        using FederationResult result = await RunAsync(
            i => i == 0 ? new PartialClient(1, new TensorSpec("head", [4])) : new PartialClient(1, Layout.Tensors[1]), partial: true);

        Assert.That(result.History.Rounds[0].Failures.Select(f => f.Reason), Has.One.Contains("'head' has shape [4]"));
    }

    [Test]
    public async Task RunAsync_TopKDeltasOfTheTrainedTensors_EqualThePartialFederation()
    {
        using FederationResult plain = await RunAsync(i => new PartialClient(i + 1, Layout.Tensors[1]), partial: true, rounds: 3);
        using FederationResult sparse = await RunAsync(
            i => new TopKUpdateClient(new PartialClient(i + 1, Layout.Tensors[1])) { HalfPrecision = false }, partial: true, b => b.UseSparseUpdates(1.0), rounds: 3);

        Assert.That(sparse.History.Rounds.SelectMany(r => r.Failures), Is.Empty);
        Assert.That(sparse.Parameters.Values.ToArray(), Is.EqualTo(plain.Parameters.Values.ToArray()).Within(1e-5f), "the head's deltas expanded, the body kept");
    }

    [Test]
    public async Task RunAsync_TopKDeltaWithATensorNotInTheModel_IsRejectedNamingIt()
    {
        var stray = new TensorSpec("tail", [3]);
        using FederationResult result = await RunAsync(
            i => i == 0 ? new TopKUpdateClient(new StrayClient(stray)) : new PartialClient(1, Layout.Tensors[1]), partial: true, b => b.UseSparseUpdates(0.5));

        ClientFailure failure = result.History.Rounds.SelectMany(r => r.Failures).Single();
        Assert.That(failure.Reason, Does.Contain("'tail'").And.Contain("not in the model"));
    }

    [Test]
    public async Task RunAsync_PartialModelsTrainedFromDownlinkReferences_AreRebasedOntoTheGlobalModel()
    {
        using FederationResult plain = await RunAsync(i => new PartialClient(i + 1, Layout.Tensors[1]), partial: true, rounds: 3);
        using FederationResult deltas = await RunAsync(
            i => new DownlinkDeltaClient(new PartialClient(i + 1, Layout.Tensors[1])), partial: true, b => b.UseDownlinkDeltas(0.1), rounds: 3);

        Assert.That(deltas.Parameters.Values.ToArray(), Is.EqualTo(plain.Parameters.Values.ToArray()).Within(1e-5f));
    }

    /// <summary>Sends a tensor the model does not have, as a partial update (the server must reject it by name).</summary>
    private sealed class StrayClient(TensorSpec stray) : IClient
    {
        public Task<ConfigRecord> GetPropertiesAsync(CancellationToken cancellationToken = default) => Task.FromResult(ConfigRecord.Empty);

        public Task<FitResult> FitAsync(FitInstructions instructions, CancellationToken cancellationToken = default) =>
            Task.FromResult(new FitResult(ModelParameters.Create(TensorLayout.Create(stray)), 10, new ConfigRecord { { ConfigKeys.IsDelta, true } }));

        public Task<EvaluateResult> EvaluateAsync(EvaluateInstructions instructions, CancellationToken cancellationToken = default) => Task.FromResult(new EvaluateResult(0, 1));
    }
}
