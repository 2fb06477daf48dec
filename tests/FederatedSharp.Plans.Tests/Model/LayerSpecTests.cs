using FederatedSharp.Plans.Tests.TestUtilities;
using TorchSharp;
using static TorchSharp.torch;

namespace FederatedSharp.Plans.Tests.Model;

public sealed class LayerSpecTests
{
    // Every layer of the vocabulary, in models over tabular, sequence, image and code inputs.
    private static readonly (string Name, string Shape, string Features, string Layers)[] Zoo =
    [
        ("tabular", "[6]", "6",
            """
            { "type": "batchnorm1d", "features": 6 }, { "type": "linear", "in": 6, "out": 8 }, { "type": "layernorm", "shape": [8] },
            { "type": "gelu" }, { "type": "residual", "layers": [ { "type": "linear", "in": 8, "out": 8 }, { "type": "silu" }, { "type": "dropout", "p": 0.5 } ] },
            { "type": "sequential", "name": "head", "layers": [ { "type": "leaky_relu", "negativeSlope": 0.2 }, { "type": "elu" }, { "type": "tanh" }, { "type": "linear", "in": 8, "out": 3 } ] },
            { "type": "log_softmax" }
            """),
        ("sequence", "[2, 12]", "24",
            """
            { "type": "conv1d", "in": 2, "out": 4, "kernel": 3, "stride": 1, "padding": 1 }, { "type": "batchnorm1d", "features": 4 }, { "type": "relu" },
            { "type": "maxpool1d", "kernel": 2 }, { "type": "avgpool1d", "kernel": 3, "stride": 1 }, { "type": "flatten" }, { "type": "linear", "in": 16, "out": 3 },
            { "type": "softmax", "dim": 0 }
            """),
        ("image", "[1, 8, 8]", "64",
            """
            { "type": "conv2d", "in": 1, "out": 3, "kernel": 3, "stride": 2, "padding": 1 }, { "type": "batchnorm2d", "features": 3 }, { "type": "sigmoid" },
            { "type": "maxpool2d", "kernel": 2 }, { "type": "avgpool2d", "kernel": 2 }, { "type": "flatten" }, { "type": "linear", "in": 3, "out": 3 }
            """),
        ("codes", "[4]", "4",
            """
            { "type": "embedding", "count": 5, "dim": 3 }, { "type": "flatten" }, { "type": "linear", "in": 12, "out": 3 }
            """),
    ];

    private static IEnumerable<TestCaseData> ZooCases() => Zoo.Select(z => new TestCaseData(z.Shape, z.Features, z.Layers).SetArgDisplayNames(z.Name));

    [TestCaseSource(nameof(ZooCases))]
    public void Build_EveryLayerOfTheVocabulary_OutputsTheInferredShape(string shape, string features, string layers)
    {
        TrainingPlan plan = TrainingPlan.Parse(ZooPlan(shape, features, layers));
        using nn.Module<Tensor, Tensor> module = PlanCompiler.CreateModule(plan);
        using var scope = torch.NewDisposeScope();
        long[] batch = [5, .. plan.Data.FeatureShape.Select(s => (long)s)];
        Tensor input = plan.Model.Children[0].Type == "embedding" ? torch.randint(0, 5, batch).to_type(ScalarType.Float32) : torch.randn(batch);

        module.train();
        Tensor trained = module.forward(input);
        module.eval();
        Tensor evaluated = module.forward(input);

        Assert.That(trained.shape, Is.EqualTo(new long[] { 5, 3 }));
        Assert.That(evaluated.shape, Is.EqualTo((long[])[5, .. plan.OutputShape.Select(s => (long)s)]));
        Assert.That(evaluated.isfinite().all().item<bool>(), Is.True);
    }

    [Test]
    public void CreateModule_SamePlan_SameInitialParametersEveryTime()
    {
        TrainingPlan plan = PlanFiles.Load("digits-cnn");

        using var a = PlanCompiler.CreateInitialParameters(plan);
        using var b = PlanCompiler.CreateInitialParameters(plan);

        Assert.That(a.Layout.Tensors.Select(t => t.Name), Is.EqualTo(new[] { "conv1.weight", "conv1.bias", "conv2.weight", "conv2.bias", "fc.weight", "fc.bias" }));
        Assert.That(a.Values.ToArray(), Is.EqualTo(b.Values.ToArray()));
    }

    [Test]
    public void CreateModule_AnotherSeed_OtherInitialParameters()
    {
        TrainingPlan plan = TrainingPlan.Parse(PlanFiles.Minimal());
        TrainingPlan reseeded = TrainingPlan.Parse(PlanFiles.Minimal(j => j.Replace("\"seed\": 3", "\"seed\": 4", StringComparison.Ordinal)));

        using var a = PlanCompiler.CreateInitialParameters(plan);
        using var b = PlanCompiler.CreateInitialParameters(reseeded);

        Assert.That(a.Values.ToArray(), Is.Not.EqualTo(b.Values.ToArray()));
    }

    [Test]
    public void Dropout_ReseededAlike_DrawsTheSameMask()
    {
        TrainingPlan plan = TrainingPlan.Parse(ZooPlan("[6]", "6", Zoo[0].Layers));
        using nn.Module<Tensor, Tensor> a = PlanCompiler.CreateModule(plan);
        using nn.Module<Tensor, Tensor> b = PlanCompiler.CreateModule(plan);
        using var scope = torch.NewDisposeScope();
        Tensor input = torch.randn(16, 6);
        a.train();
        b.train();

        Reseed(a, 11);
        Reseed(b, 11);
        Tensor first = a.forward(input);
        Tensor same = b.forward(input);
        Reseed(b, 12);
        Tensor other = b.forward(input);

        Assert.That(first.eq(same).all().item<bool>(), Is.True);
        Assert.That(first.eq(other).all().item<bool>(), Is.False);
    }

    private static void Reseed(nn.Module module, ulong seed)
    {
        foreach (var seeded in module.modules().OfType<FederatedSharp.Plans.Model.ISeededModule>())
        {
            seeded.Reseed(seed);
        }
    }

    private static string ZooPlan(string shape, string features, string layers) => $$"""
        {
          "format": "federatedsharp.plan/v1", "name": "zoo", "seed": 1,
          "data": { "features": { "prefix": "f", "count": {{features}} }, "featureShape": {{shape}}, "label": { "task": "multiclass", "column": "y", "classes": 3 } },
          "model": { "layers": [ {{layers}} ] },
          "loss": { "type": "cross_entropy" }, "optimizer": { "type": "adam", "learningRate": 0.01 },
          "federation": { "strategy": "fedavg", "rounds": 1 }
        }
        """;
}
