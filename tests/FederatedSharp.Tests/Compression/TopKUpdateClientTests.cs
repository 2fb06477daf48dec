using FederatedSharp.Clients;
using FederatedSharp.Compression;
using FederatedSharp.Parameters;

namespace FederatedSharp.Tests.Compression;

public class TopKUpdateClientTests
{
    private static readonly TensorLayout Layout = TensorLayout.Create(new TensorSpec("w", [10]));

    /// <summary>Returns the model received plus a fixed step.</summary>
    private sealed class StepClient(float[] step) : IClient
    {
        public Task<ConfigRecord> GetPropertiesAsync(CancellationToken cancellationToken = default) => Task.FromResult(ConfigRecord.Empty);

        public Task<FitResult> FitAsync(FitInstructions instructions, CancellationToken cancellationToken = default)
        {
            ModelParameters update = instructions.Parameters.Clone();
            System.Numerics.Tensors.TensorPrimitives.Add(update.Values, step, update.Values);
            return Task.FromResult(new FitResult(update, 4, new ConfigRecord { { "loss", 0.5 } }));
        }

        public Task<EvaluateResult> EvaluateAsync(EvaluateInstructions instructions, CancellationToken cancellationToken = default) => Task.FromResult(new EvaluateResult(0, 1));
    }

    private static ConfigRecord TopK(double fraction) => new ConfigRecord { { ConfigKeys.TopKFraction, fraction } }.Freeze();

    [Test]
    public async Task FitAsync_FractionAsked_SendsTheLargestDeltasAndKeepsTheRest()
    {
        float[] step = [0.1f, -5f, 0.2f, 3f, 0f, -0.3f, 4f, 0.05f, -0.01f, 1f];
        var client = new TopKUpdateClient(new StepClient(step));
        var state = new ClientState("a");
        using ModelParameters global = ModelParameters.Create(Layout);
        global.Values.Fill(2f);

        using FitResult result = await client.FitAsync(new FitInstructions(1, global, TopK(0.3)) { State = state });

        Assert.Multiple(() =>
        {
            Assert.That(result.Parameters.Values.ToArray(), Is.EqualTo(new[] { 0f, -5f, 0f, 3f, 0f, 0f, 4f, 0f, 0f, 0f }), "ceil(0.3 x 10) = 3 values of largest magnitude");
            Assert.That(result.Metrics[ConfigKeys.IsDelta].AsBoolean(), Is.True);
            Assert.That(result.Metrics["loss"].AsDouble(), Is.EqualTo(0.5));
            Assert.That(result.ExampleCount, Is.EqualTo(4));
            Assert.That(state.GetFloats(TopKUpdateClient.ResidualKey), Is.EqualTo(new[] { 0.1f, 0f, 0.2f, 0f, 0f, -0.3f, 0f, 0.05f, -0.01f, 1f }).Within(1e-6f));
        });
    }

    [Test]
    public async Task FitAsync_NextRound_AddsTheResidualSoNothingIsLost()
    {
        float[] step = [1f, 0.4f, 0.3f, 0f, 0f, 0f, 0f, 0f, 0f, 0f];
        var client = new TopKUpdateClient(new StepClient(step));
        var state = new ClientState("a");
        using ModelParameters global = ModelParameters.Create(Layout);
        var sent = new float[10];

        for (int round = 1; round <= 3; round++)
        {
            using FitResult result = await client.FitAsync(new FitInstructions(round, global, TopK(0.1)) { State = state });
            System.Numerics.Tensors.TensorPrimitives.Add(sent, result.Parameters.Values, sent);
        }

        // Three rounds of the same step, one value a round: sent + residual = 3 x step, exactly.
        float[] residual = state.GetFloats(TopKUpdateClient.ResidualKey)!;
        float[] total = new float[10];
        System.Numerics.Tensors.TensorPrimitives.Add(sent, residual, total);
        Assert.That(total, Is.EqualTo(step.Select(s => 3 * s).ToArray()).Within(1e-6f));
        Assert.That(sent[1] + sent[2], Is.GreaterThan(0), "the residual of the small values grew until they were sent");
    }

    [Test]
    public async Task FitAsync_NotAsked_PassesTheResultThrough()
    {
        var client = new TopKUpdateClient(new StepClient(new float[10]));
        using ModelParameters global = ModelParameters.Create(Layout);

        using FitResult result = await client.FitAsync(new FitInstructions(1, global, ConfigRecord.Empty));

        Assert.That(result.Metrics.ContainsKey(ConfigKeys.IsDelta), Is.False);
    }

    [TestCase(0.0)]
    [TestCase(1.5)]
    public async Task FitAsync_FractionOutOfRange_ThrowsNamingTheKey(double fraction)
    {
        var client = new TopKUpdateClient(new StepClient(new float[10]));
        using ModelParameters global = ModelParameters.Create(Layout);

        ArgumentOutOfRangeException? ex = await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => client.FitAsync(new FitInstructions(1, global, TopK(fraction))));
        Assert.That(ex!.Message, Does.Contain(ConfigKeys.TopKFraction));
    }

    [TestCase(true)]
    [TestCase(false)]
    public async Task FitAsync_HalfPrecision_SendsFloat16ValuesAndKeepsTheRoundingInTheResidual(bool half)
    {
        float[] step = [0.1f, 0, 0, 0, 0, 0, 0, 0, 0, 0];
        var client = new TopKUpdateClient(new StepClient(step)) { HalfPrecision = half };
        var state = new ClientState("a");
        using ModelParameters global = ModelParameters.Create(Layout);

        using FitResult result = await client.FitAsync(new FitInstructions(1, global, TopK(0.1)) { State = state });

        float sent = result.Parameters.Values[0];
        float residual = state.GetFloats(TopKUpdateClient.ResidualKey)![0];
        Assert.Multiple(() =>
        {
            Assert.That(sent, Is.EqualTo(half ? (float)(Half)0.1f : 0.1f));
            Assert.That(sent + residual, Is.EqualTo(0.1f).Within(1e-9f), "what is not sent is kept");
            Assert.That(residual == 0, Is.EqualTo(!half));
        });
    }

    /// <summary>Trains only tensor "b" of a two-tensor model: adds its step and returns just that tensor.</summary>
    private sealed class HeadClient(float step) : IClient
    {
        public Task<ConfigRecord> GetPropertiesAsync(CancellationToken cancellationToken = default) => Task.FromResult(ConfigRecord.Empty);

        public Task<FitResult> FitAsync(FitInstructions instructions, CancellationToken cancellationToken = default)
        {
            ModelParameters head = ModelParameters.FromValues(TensorLayout.Create(new TensorSpec("b", [3])), instructions.Parameters.GetTensor("b"));
            System.Numerics.Tensors.TensorPrimitives.Add(head.Values, step, head.Values);
            return Task.FromResult(new FitResult(head, 2));
        }

        public Task<EvaluateResult> EvaluateAsync(EvaluateInstructions instructions, CancellationToken cancellationToken = default) => Task.FromResult(new EvaluateResult(0, 1));
    }

    [Test]
    public async Task FitAsync_OnlySomeTensorsTrained_SendsTheTopKOfTheirDeltas()
    {
        var model = TensorLayout.Create(new TensorSpec("a", [2]), new TensorSpec("b", [3]));
        using ModelParameters global = ModelParameters.FromValues(model, [9f, 9f, 1f, 2f, 3f]);
        var state = new ClientState("a");

        using FitResult result = await new TopKUpdateClient(new HeadClient(0.5f)) { HalfPrecision = false }.FitAsync(new FitInstructions(1, global, TopK(1.0)) { State = state });

        Assert.That(result.Parameters.Layout.Tensors.Select(t => t.Name), Is.EqualTo(new[] { "b" }));
        Assert.That(result.Parameters.Values.ToArray(), Is.EqualTo(new[] { 0.5f, 0.5f, 0.5f }), "the head's delta, not the head minus the body");
    }
}
