using System.Buffers;
using CustomTransport;
using FederatedSharp.Aggregation;
using FederatedSharp.Clients;
using FederatedSharp.Parameters;
using FederatedSharp.Serialization;
using FederatedSharp.Server;
using FederatedSharp.Tests.TestUtilities;

namespace FederatedSharp.Tests.Samples;

/// <summary>The CustomTransport sample's three extension points, through their public APIs.</summary>
public class CustomTransportTests
{
    [Test]
    public async Task FolderTransport_ThreeSites_FederationLearnsTheLinearModel()
    {
        using var temp = new TempDirectory("fs-folder-");
        var serializer = new JsonModelSerializer();
        using var stop = new CancellationTokenSource();
        Task[] sites = Enumerable.Range(0, 3)
            .Select(i => Task.Run(() => new FolderClientRunner(temp.Path, $"site-{i}", new LinearRegressionClient(i, 60), serializer).RunAsync(stop.Token)))
            .ToArray();
        try
        {
            await using var transport = new FolderTransport(temp.Path, serializer);
            using ModelParameters initial = ModelParameters.Create(LinearRegressionClient.Layout);
            using FederationResult result = await new FederatedServerBuilder().UseTransport(transport).UseAggregator(new ServerStepAggregator(0.8)).WithInitialParameters(initial)
                .Configure(o =>
                {
                    o.Rounds = 10;
                    o.MinAvailableClients = 3;
                })
                .Build().RunAsync().WithTimeout(TimeSpan.FromMinutes(1));
            Assert.Multiple(() =>
            {
                Assert.That(result.History.Rounds.All(r => r.Succeeded && r.AggregatedUpdates == 3), Is.True);
                Assert.That(result.History.Rounds[^1].DistributedLoss, Is.LessThan(result.History.Rounds[0].DistributedLoss!.Value));
            });
        }
        finally
        {
            await stop.CancelAsync();
            try
            {
                await Task.WhenAll(sites).WithTimeout();
            }
            catch (OperationCanceledException)
            {
            }
        }
    }

    [Test]
    public async Task FolderTransport_UnregisteredClient_IsUnknown()
    {
        using var temp = new TempDirectory("fs-folder-");
        await using var transport = new FolderTransport(temp.Path, new JsonModelSerializer());
        Assert.Throws<FederatedSharp.Transport.UnknownClientException>(() => transport.GetConnection("nobody"));
    }

    [Test]
    public void ServerStepAggregator_HalfStep_MovesHalfwayToTheMean()
    {
        using ModelParameters global = RoundHelper.Vector(0, 0);
        float[] r = RoundHelper.Aggregate(new ServerStepAggregator(0.5), global, new[] { (new float[] { 2, 4 }, 1L), (new float[] { 4, 8 }, 1L) });
        Assert.That(r, Is.EqualTo(new float[] { 1.5f, 3 }));
    }

    [Test]
    public void JsonModelSerializer_RoundTripAndMalformedInput()
    {
        var serializer = new JsonModelSerializer(maxParameters: 100);
        using ModelParameters model = TestModels.Random(TestModels.SmallLayout, 2);
        var buffer = new ArrayBufferWriter<byte>();
        serializer.Serialize(model, buffer);
        using ModelParameters back = serializer.Deserialize(new ReadOnlySequence<byte>(buffer.WrittenMemory));
        Assert.Multiple(() =>
        {
            Assert.That(back.Values.ToArray(), Is.EqualTo(model.Values.ToArray()));
            Assert.Throws<ModelFormatException>(() => serializer.Deserialize(new ReadOnlySequence<byte>("{\"tensors\":[{\"name\":\"w\",\"shape\":[3],\"values\":[1]}]}"u8.ToArray())));
            Assert.Throws<ModelFormatException>(() => serializer.Deserialize(new ReadOnlySequence<byte>("{\"tensors\":[{\"name\":\"w\",\"shape\":[1000],\"values\":[]}]}"u8.ToArray())));
            Assert.Throws<ModelFormatException>(() => serializer.Deserialize(new ReadOnlySequence<byte>("not json"u8.ToArray())));
        });
    }
}

/// <summary>The CustomTransport sample's custom feature, through the public feature API.</summary>
public class RoundLogFeatureTests
{
    [Test]
    public async Task RunAsync_RoundLogFeature_ReportsUpdateNormsAndWritesOneLinePerClientPerRound()
    {
        using var temp = new TempDirectory("fs-feature-");
        string csv = Path.Combine(temp.Path, "rounds.csv");
        await using var transport = new FederatedSharp.Transport.InMemory.InMemoryTransport();
        transport.AddClient("a", new ShiftClient(0.3f, 10));
        transport.AddClient("b", new ShiftClient(0.4f, 10));
        using ModelParameters initial = TestModels.Filled(TestModels.SmallLayout, 0);

        using FederationResult result = await new FederatedServerBuilder().UseTransport(transport).UseAggregator(new FedAvg()).WithInitialParameters(initial)
            .Configure(o => o.Rounds = 3)
            .UseFeature(new RoundLogFeature(csv))
            .Build().RunAsync().WithTimeout();

        // SmallLayout has 8 values: a shift of d moves the model by d sqrt(8).
        string[] lines = await File.ReadAllLinesAsync(csv);
        Assert.Multiple(() =>
        {
            Assert.That(result.History.Rounds[0].AggregatorMetrics["update_norm_mean"].AsDouble(), Is.EqualTo(0.35 * Math.Sqrt(8)).Within(1e-5));
            Assert.That(result.History.Rounds[0].AggregatorMetrics["update_norm_max"].AsDouble(), Is.EqualTo(0.4 * Math.Sqrt(8)).Within(1e-5));
            Assert.That(lines, Has.Length.EqualTo(1 + (3 * 2)));
            Assert.That(lines[1], Does.StartWith("1,"));
        });
    }

    [Test]
    public async Task Build_RoundLogWithoutPath_RefusedAtBuild()
    {
        await using var transport = new FederatedSharp.Transport.InMemory.InMemoryTransport();
        using ModelParameters initial = TestModels.Filled(TestModels.SmallLayout, 0);
        var builder = new FederatedServerBuilder().UseTransport(transport).UseAggregator(new FedAvg()).WithInitialParameters(initial).UseFeature(new RoundLogFeature(" "));

        Assert.That(() => builder.Build(), Throws.ArgumentException.With.Message.Contains("file path"));
    }
}
