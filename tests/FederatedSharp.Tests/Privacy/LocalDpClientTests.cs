using FederatedSharp.Clients;
using FederatedSharp.Parameters;
using FederatedSharp.Privacy;
using FederatedSharp.Tests.TestUtilities;

namespace FederatedSharp.Tests.Privacy;

public class LocalDpClientTests
{
    [Test]
    public async Task FitAsync_LargeUpdateNoNoise_ClippedToTheNorm()
    {
        using var client = new LocalDpClient(new ShiftClient(3, 10), clipNorm: 1, noiseMultiplier: 0, seed: 1);
        using ModelParameters global = TestModels.Filled(TestModels.SmallLayout, 0);
        using FitResult result = await client.FitAsync(new FitInstructions(1, global, ConfigRecord.Empty));
        double norm = Math.Sqrt(result.Parameters.Values.ToArray().Sum(v => (double)v * v));
        Assert.Multiple(() =>
        {
            Assert.That(norm, Is.EqualTo(1).Within(1e-6), "an update of norm 3 sqrt(8) leaves as norm 1");
            Assert.That(result.Metrics.GetBoolean("local_dp_clipped", false), Is.True);
            Assert.That(result.ExampleCount, Is.EqualTo(10));
        });
    }

    [Test]
    public async Task FitAsync_Noise_HasStandardDeviationZTimesC()
    {
        var layout = TensorLayout.Create(new TensorSpec("w", 50_000));
        using var client = new LocalDpClient(new ShiftClient(0, 10), clipNorm: 0.5, noiseMultiplier: 2, seed: 3);
        using ModelParameters global = ModelParameters.Create(layout);
        using FitResult result = await client.FitAsync(new FitInstructions(1, global, ConfigRecord.Empty));
        float[] v = result.Parameters.Values.ToArray();
        double mean = v.Average(x => (double)x);
        double std = Math.Sqrt(v.Sum(x => (x - mean) * (x - mean)) / (v.Length - 1));
        Assert.That(std, Is.EqualTo(1.0).Within(2).Percent);
    }

    [Test]
    public async Task FitAsync_SameSeedAndRound_SameNoise()
    {
        using ModelParameters global = TestModels.Filled(TestModels.SmallLayout, 0);
        async Task<float[]> Run(ulong seed, int round)
        {
            using var client = new LocalDpClient(new ShiftClient(0.1f, 10), 1, 1, seed);
            using FitResult r = await client.FitAsync(new FitInstructions(round, global, ConfigRecord.Empty));
            return r.Parameters.Values.ToArray();
        }

        float[] first = await Run(1, 1);
        Assert.Multiple(async () =>
        {
            Assert.That(await Run(1, 1), Is.EqualTo(first));
            Assert.That(await Run(1, 2), Is.Not.EqualTo(first));
        });
    }

    [Test]
    public void Constructor_InvalidSettings_Throw()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => _ = new LocalDpClient(new ShiftClient(0, 1), 0, 1, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => _ = new LocalDpClient(new ShiftClient(0, 1), 1, -1, 0));
    }
}
