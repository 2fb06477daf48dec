using Digits;
using FederatedSharp.Serialization;

namespace FederatedSharp.TorchSharp.Tests.Samples;

/// <summary>The Digits CNN federation through the sample's public entry point.</summary>
public class DigitsFederationTests
{
    [Test]
    public async Task RunAsync_FedAvgTwentyNonIidClients_ReachesNinetyPercent()
    {
        DigitsResult result = await DigitsFederation.RunAsync(new DigitsOptions { Strategy = "fedavg" }).WaitAsync(TimeSpan.FromMinutes(3));
        TestContext.Out.WriteLine($"FedAvg test accuracy {result.FinalAccuracy:F3} in {result.Elapsed.TotalSeconds:F1} s");
        Assert.Multiple(() =>
        {
            Assert.That(result.Accuracy, Has.Count.EqualTo(50));
            Assert.That(result.FinalAccuracy, Is.GreaterThanOrEqualTo(0.90));
        });
    }

    [Test]
    public async Task RunAsync_Int8OnTheWire_QuartersTheBytesOfFloat32()
    {
        var f32 = await DigitsFederation.RunAsync(new DigitsOptions { Rounds = 2, Encoding = ElementEncoding.Float32 }).WaitAsync(TimeSpan.FromMinutes(3));
        var int8 = await DigitsFederation.RunAsync(new DigitsOptions { Rounds = 2, Encoding = ElementEncoding.Int8 }).WaitAsync(TimeSpan.FromMinutes(3));
        double ratio = (double)(int8.BytesSent + int8.BytesReceived) / (f32.BytesSent + f32.BytesReceived);
        Assert.That(ratio, Is.InRange(0.25, 0.27));
    }

    [Test]
    public void Load_DigitsFile_SplitsEightyTwenty()
    {
        DigitsFederation.DataSplit data = DigitsFederation.Load(1);
        Assert.Multiple(() =>
        {
            Assert.That(data.TrainY.Length + data.TestY.Length, Is.EqualTo(1797));
            Assert.That(data.TrainY.Length, Is.EqualTo(1437));
            Assert.That(data.TrainX.Max(), Is.LessThanOrEqualTo(1f));
            Assert.That(data.TrainY.Distinct().Count(), Is.EqualTo(10));
        });
    }
}
