using FederatedSharp.Aggregation;
using FederatedSharp.Clients;
using FederatedSharp.Parameters;
using FederatedSharp.Server;
using FederatedSharp.Tests.TestUtilities;
using FederatedSharp.Transport.InMemory;

namespace FederatedSharp.Tests.Server.Features.PartialUpdates;

/// <summary>Partial updates: results with some of the model's tensors are completed from the model before validation.</summary>
public class PartialUpdatesFeatureTests
{
    private static readonly TensorLayout Layout = TensorLayout.Create(new TensorSpec("body", [6]), new TensorSpec("head", [2, 2]));

    /// <summary>Trains only the named tensors: adds its shift to them and returns just those.</summary>
    private sealed class PartialClient(float shift, params TensorSpec[] trained) : IClient
    {
        public Task<ConfigRecord> GetPropertiesAsync(CancellationToken cancellationToken = default) => Task.FromResult(ConfigRecord.Empty);

        public Task<FitResult> FitAsync(FitInstructions instructions, CancellationToken cancellationToken = default)
        {
            ModelParameters part = ModelParameters.Create(TensorLayout.Create(trained));
            for (int t = 0; t < trained.Length; t++)
            {
                Span<float> target = part.GetTensor(t);
                instructions.Parameters.GetTensor(trained[t].Name).CopyTo(target);
                System.Numerics.Tensors.TensorPrimitives.Add(target, shift, target);
            }

            return Task.FromResult(new FitResult(part, 10));
        }

        public Task<EvaluateResult> EvaluateAsync(EvaluateInstructions instructions, CancellationToken cancellationToken = default) => Task.FromResult(new EvaluateResult(0, 1));
    }

    private static async Task<FederationResult> RunAsync(Func<int, IClient> client, bool partial)
    {
        await using var transport = new InMemoryTransport();
        for (int i = 0; i < 3; i++)
        {
            transport.AddClient($"c{i}", client(i));
        }

        using ModelParameters initial = TestModels.Random(Layout, 4, 1f);
        FederatedServerBuilder builder = new FederatedServerBuilder().UseTransport(transport).UseAggregator(new FedAvg()).WithInitialParameters(initial)
            .Configure(o => { o.Rounds = 1; o.MinAvailableClients = 3; o.MinFitClients = 1; o.Seed = 1; });
        if (partial)
        {
            builder.UsePartialUpdates();
        }

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
}
