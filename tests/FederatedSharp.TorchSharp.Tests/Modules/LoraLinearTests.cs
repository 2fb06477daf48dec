using FederatedSharp.Clients;
using FederatedSharp.Parameters;
using FederatedSharp.TorchSharp.Modules;
using FederatedSharp.TorchSharp.Tests.TestUtilities;
using FederatedSharp.TorchSharp.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace FederatedSharp.TorchSharp.Tests.Modules;

public class LoraLinearTests
{
    [Test]
    public void Forward_NewAdapter_EqualsTheBaseLayer()
    {
        torch.random.manual_seed(5);
        var linear = nn.Linear(6, 3);
        using Tensor x = torch.randn(4, 6);
        using Tensor expected = linear.forward(x);
        using var lora = new LoraLinear(linear, rank: 2, alpha: 4);

        using Tensor actual = lora.forward(x);

        Assert.That(actual.data<float>().ToArray(), Is.EqualTo(expected.data<float>().ToArray()), "B starts at zero");
        Assert.That(lora.named_parameters().Select(p => $"{p.name}{string.Join("x", p.parameter.shape)}"),
            Is.EqualTo(new[] { "lora_A2x6", "lora_B3x2", "base.weight3x6", "base.bias3" }));
    }

    [Test]
    public void Forward_AdapterSet_AddsTheScaledLowRankProduct()
    {
        torch.random.manual_seed(5);
        var linear = nn.Linear(2, 2);
        using var lora = new LoraLinear(linear, rank: 1, alpha: 3);
        using (torch.no_grad())
        {
            lora.named_parameters().Single(p => p.name == "lora_A").parameter.copy_(torch.tensor(new float[] { 1, 2 }).reshape(1, 2));
            lora.named_parameters().Single(p => p.name == "lora_B").parameter.copy_(torch.tensor(new float[] { 1, -1 }).reshape(2, 1));
        }

        using Tensor x = torch.tensor(new float[] { 1, 1 }).reshape(1, 2);
        using Tensor baseOutput = linear.forward(x);
        using Tensor output = lora.forward(x);

        // x Aᵀ = 3, times B = (3, -3), times alpha / rank = 3: (9, -9).
        float[] difference = (output - baseOutput).data<float>().ToArray();
        Assert.That(difference, Is.EqualTo(new[] { 9f, -9f }).Within(1e-5f));
    }

    [TestCase(0)]
    [TestCase(-1)]
    public void Constructor_RankOutOfRange_Throws(int rank)
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new LoraLinear(nn.Linear(2, 5), rank, 1));
    }

    [Test]
    public async Task FitAsync_OnlyAdaptersTrainable_SendsAndChangesOnlyTheAdapters()
    {
        torch.random.manual_seed(1);
        var options = new TorchTrainerOptions
        {
            Module = nn.Sequential(("body", nn.Linear(2, 8)), ("relu", nn.ReLU()), ("head", new LoraLinear(nn.Linear(8, 1), rank: 2, alpha: 4)), ("sigmoid", nn.Sigmoid())),
            Train = SyntheticBinaryData.Create(200, 1),
            Loss = nn.BCELoss().forward,
            LearningRate = 0.5,
            BatchSize = 8,
            LocalSteps = 40,
            Seed = 3,
        };
        options.Trainable.Add("*lora_*");
        using var client = new TorchTrainerClient(options);
        using ModelParameters global = client.GetParameters();
        EvaluateResult before = client.Evaluate(global);

        using FitResult fit = await client.FitAsync(new FitInstructions(1, global, ConfigRecord.Empty));
        using ModelParameters after = client.GetParameters();
        EvaluateResult trained = client.Evaluate(after);

        Assert.Multiple(() =>
        {
            Assert.That(fit.Parameters.Layout.Tensors.Select(t => t.Name), Is.EqualTo(new[] { "head.lora_A", "head.lora_B" }));
            Assert.That(fit.Parameters.Length, Is.EqualTo((2 * 8) + (1 * 2)));
            Assert.That(after.GetTensor("body.weight").ToArray(), Is.EqualTo(global.GetTensor("body.weight").ToArray()));
            Assert.That(after.GetTensor("head.base.weight").ToArray(), Is.EqualTo(global.GetTensor("head.base.weight").ToArray()));
            Assert.That(trained.Loss, Is.LessThan(before.Loss), "the adapters learned");
        });
    }
}
