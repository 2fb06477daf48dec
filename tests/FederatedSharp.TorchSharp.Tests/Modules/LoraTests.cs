using FederatedSharp.TorchSharp.Modules;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace FederatedSharp.TorchSharp.Tests.Modules;

public class LoraTests
{
    private static Sequential Network() => nn.Sequential(
        ("encoder", nn.Sequential(("fc1", nn.Linear(6, 8)), ("relu", nn.ReLU()), ("fc2", nn.Linear(8, 8)))),
        ("head", nn.Linear(8, 3)));

    [Test]
    public void Apply_NamedLayers_WrapsThemAndKeepsTheOutput()
    {
        torch.random.manual_seed(3);
        Sequential model = Network();
        using Tensor x = torch.randn(5, 6);
        using Tensor before = model.forward(x);

        using Sequential adapted = Lora.Apply(model, rank: 2, alpha: 4, "encoder.fc2", "head");
        using Tensor after = adapted.forward(x);

        Assert.That(adapted.named_parameters().Select(p => p.name), Is.EqualTo(new[]
        {
            "encoder.fc1.weight", "encoder.fc1.bias",
            "encoder.fc2.lora_A", "encoder.fc2.lora_B", "encoder.fc2.base.weight", "encoder.fc2.base.bias",
            "head.lora_A", "head.lora_B", "head.base.weight", "head.base.bias",
        }));
        Assert.That(after.data<float>().ToArray(), Is.EqualTo(before.data<float>().ToArray()), "new adapters start at zero");
    }

    [Test]
    public void Apply_Wildcard_WrapsEveryLinearLayer()
    {
        using Sequential adapted = Lora.Apply(Network(), rank: 1, alpha: 1, "*");

        Assert.That(adapted.named_parameters().Count(p => p.name.EndsWith("lora_A", StringComparison.Ordinal)), Is.EqualTo(3));
    }

    [Test]
    public void Apply_TargetMatchingNothing_ThrowsListingTheLinearLayers()
    {
        var error = Assert.Throws<ArgumentException>(() => Lora.Apply(Network(), rank: 2, alpha: 4, "classifier"));

        Assert.That(error!.Message, Does.Contain("'classifier'").And.Contain("encoder.fc1, encoder.fc2, head"));
    }

    [TestCase(0, 1.0)]
    [TestCase(2, 0.0)]
    [TestCase(2, double.PositiveInfinity)]
    public void Apply_RankOrAlphaOutOfRange_Throws(int rank, double alpha)
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => Lora.Apply(Network(), rank, alpha, "head"));
    }
}
