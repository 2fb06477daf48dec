using FederatedSharp.Clients;
using FederatedSharp.Parameters;
using FederatedSharp.TorchSharp.Tests.TestUtilities;
using FederatedSharp.TorchSharp.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace FederatedSharp.TorchSharp.Tests.Training;

/// <summary>Partial training: frozen parameters keep the server's values and stay out of the updates.</summary>
public class TorchTrainerClientFrozenTests
{
    private static TorchTrainerClient Client(params string[] frozen)
    {
        torch.random.manual_seed(1);
        var options = new TorchTrainerOptions
        {
            Module = nn.Sequential(("body", nn.Linear(2, 4)), ("relu", nn.ReLU()), ("head", nn.Linear(4, 1)), ("sigmoid", nn.Sigmoid())),
            Train = SyntheticBinaryData.Create(200, 1),
            Loss = nn.BCELoss().forward,
            LearningRate = 0.5,
            BatchSize = 8,
            LocalSteps = 30,
            Seed = 3,
        };
        foreach (string pattern in frozen)
        {
            options.Frozen.Add(pattern);
        }

        return new TorchTrainerClient(options);
    }

    [Test]
    public async Task FitAsync_BodyFrozen_SendsOnlyTheTrainedHead()
    {
        using TorchTrainerClient client = Client("body.");
        using ModelParameters global = client.GetParameters();

        using FitResult fit = await client.FitAsync(new FitInstructions(1, global, ConfigRecord.Empty));
        using ModelParameters after = client.GetParameters();

        Assert.Multiple(() =>
        {
            Assert.That(client.UpdateLayout.Tensors.Select(t => t.Name), Is.EqualTo(new[] { "head.weight", "head.bias" }));
            Assert.That(fit.Parameters.Layout, Is.EqualTo(client.UpdateLayout));
            Assert.That(after.GetTensor("body.weight").ToArray(), Is.EqualTo(global.GetTensor("body.weight").ToArray()), "the body kept the server's values");
            Assert.That(fit.Parameters.GetTensor("head.weight").ToArray(), Is.Not.EqualTo(global.GetTensor("head.weight").ToArray()), "the head trained");
            Assert.That(client.Layout.Count, Is.EqualTo(4), "the client still takes the whole model");
        });
    }

    [Test]
    public void Constructor_PatternMatchingNothing_IsRefusedNamingThePattern()
    {
        ArgumentException? ex = Assert.Throws<ArgumentException>(() => Client("backbone."));
        Assert.That(ex!.Message, Does.Contain("frozen parameter pattern 'backbone.'"));
    }

    [Test]
    public void Constructor_EverythingFrozen_IsRefused()
    {
        ArgumentException? ex = Assert.Throws<ArgumentException>(() => Client("*"));
        Assert.That(ex!.Message, Does.Contain("nothing would train"));
    }
}
