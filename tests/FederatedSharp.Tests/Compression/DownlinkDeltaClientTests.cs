using FederatedSharp.Clients;
using FederatedSharp.Compression;
using FederatedSharp.Parameters;

namespace FederatedSharp.Tests.Compression;

public class DownlinkDeltaClientTests
{
    private static readonly TensorLayout Layout = TensorLayout.Create(new TensorSpec("w", [4]));

    /// <summary>Records the model it trained from and returns it unchanged.</summary>
    private sealed class RecordingClient : IClient
    {
        public float[]? Received { get; private set; }

        public Task<ConfigRecord> GetPropertiesAsync(CancellationToken cancellationToken = default) => Task.FromResult(ConfigRecord.Empty);

        public Task<FitResult> FitAsync(FitInstructions instructions, CancellationToken cancellationToken = default)
        {
            Received = instructions.Parameters.Values.ToArray();
            return Task.FromResult(new FitResult(instructions.Parameters.Clone(), 3, new ConfigRecord { { "loss", 0.25 } }));
        }

        public Task<EvaluateResult> EvaluateAsync(EvaluateInstructions instructions, CancellationToken cancellationToken = default) => Task.FromResult(new EvaluateResult(0, 1));
    }

    private static FitInstructions Offer(float[] model, ClientState state) =>
        new(1, ModelParameters.FromValues(Layout, model), new ConfigRecord { { ConfigKeys.DownlinkOffer, true } }.Freeze()) { State = state };

    private static FitInstructions Delta(float[] delta, long baseHash, ClientState? state) =>
        new(2, ModelParameters.FromValues(Layout, delta), new ConfigRecord { { ConfigKeys.DownlinkBase, baseHash } }.Freeze()) { State = state };

    [Test]
    public async Task FitAsync_OfferThenDelta_TrainsFromTheReferencePlusTheDelta()
    {
        var inner = new RecordingClient();
        var client = new DownlinkDeltaClient(inner);
        var state = new ClientState("a");
        using FitResult first = await client.FitAsync(Offer([1f, 2f, 3f, 4f], state));
        long held = first.Metrics[ConfigKeys.DownlinkReference].AsInt64();

        using FitResult second = await client.FitAsync(Delta([0.5f, 0f, 0f, -1f], held, state));

        Assert.Multiple(() =>
        {
            Assert.That(inner.Received, Is.EqualTo(new[] { 1.5f, 2f, 3f, 3f }));
            Assert.That(state.GetFloats(DownlinkDeltaClient.ReferenceKey), Is.EqualTo(new[] { 1.5f, 2f, 3f, 3f }));
            Assert.That(second.Metrics[ConfigKeys.DownlinkReference].AsInt64(), Is.Not.EqualTo(held), "the reference moved");
            Assert.That(second.Metrics["loss"].AsDouble(), Is.EqualTo(0.25), "the inner client's metrics are kept");
            Assert.That(second.ExampleCount, Is.EqualTo(3));
        });
    }

    [Test]
    public async Task FitAsync_DeltaAgainstAnotherReference_ThrowsNamingBoth()
    {
        var client = new DownlinkDeltaClient(new RecordingClient());
        var state = new ClientState("a");
        using FitResult first = await client.FitAsync(Offer([1f, 2f, 3f, 4f], state));

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => client.FitAsync(Delta([0f, 0f, 0f, 1f], 12345, state)));

        Assert.That(error!.Message, Does.Contain("0000000000003039").And.Contain("lossy"));
        Assert.That(state.GetFloats(DownlinkDeltaClient.ReferenceKey), Is.EqualTo(new[] { 1f, 2f, 3f, 4f }), "a refused delta leaves the reference alone");
    }

    [Test]
    public async Task FitAsync_DeltaWithoutState_ThrowsNamingTheProblem()
    {
        var client = new DownlinkDeltaClient(new RecordingClient());

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => client.FitAsync(Delta([0f, 0f, 0f, 1f], 1, null)));

        Assert.That(error!.Message, Does.Contain("no state"));
    }

    [Test]
    public async Task FitAsync_WithoutTheServersKeys_PassesThroughAndKeepsNothing()
    {
        var inner = new RecordingClient();
        var client = new DownlinkDeltaClient(inner);
        var state = new ClientState("a");
        using var model = ModelParameters.FromValues(Layout, [1f, 2f, 3f, 4f]);

        using FitResult result = await client.FitAsync(new FitInstructions(1, model, ConfigRecord.Empty) { State = state });

        Assert.That(result.Metrics.ContainsKey(ConfigKeys.DownlinkReference), Is.False);
        Assert.That(state.GetFloats(DownlinkDeltaClient.ReferenceKey), Is.Null);
        Assert.That(inner.Received, Is.EqualTo(new[] { 1f, 2f, 3f, 4f }));
    }
}
