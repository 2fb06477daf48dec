using System.Security.Cryptography;
using System.Text;
using FederatedSharp.Plans.Model;
using FederatedSharp.Plans.Tests.TestUtilities;

namespace FederatedSharp.Plans.Tests.Schema;

public sealed class TrainingPlanTests
{
    [Test]
    public void Load_HeartDiseasePlan_ReadsEverySection()
    {
        TrainingPlan plan = PlanFiles.Load("heart-disease");

        Assert.Multiple(() =>
        {
            Assert.That(plan.Name, Is.EqualTo("heart-disease-logistic-regression"));
            Assert.That(plan.Data.Features, Has.Count.EqualTo(13));
            Assert.That(plan.Data.Label.Task, Is.EqualTo(LabelTask.Binary));
            Assert.That(plan.Data.SplitColumn, Is.EqualTo("is_test"));
            Assert.That(plan.Data.Standardize, Is.EqualTo(Standardization.Site));
            Assert.That(plan.Data.StandardizeColumns, Is.EqualTo(plan.Data.Features));
            Assert.That(plan.Model.Children.Select(l => l.Type), Is.EqualTo(new[] { "linear", "sigmoid" }));
            Assert.That(plan.OutputShape, Is.EqualTo(new[] { 1 }));
            Assert.That(plan.Loss, Is.EqualTo(LossKind.BinaryCrossEntropy));
            Assert.That(plan.Optimizer.LearningRate, Is.EqualTo(0.001));
            Assert.That(plan.Training.LocalSteps, Is.EqualTo(100));
            Assert.That(plan.Federation.Rounds, Is.EqualTo(15));
            Assert.That(plan.Privacy.Any, Is.False);
        });
    }

    [Test]
    public void Load_DigitsPlan_ExpandsThePixelColumnsAndInfersTheOutput()
    {
        TrainingPlan plan = PlanFiles.Load("digits-cnn");

        Assert.That(plan.Data.Features, Has.Count.EqualTo(64));
        Assert.That(plan.Data.Features[^1], Is.EqualTo("pixel_63"));
        Assert.That(plan.OutputShape, Is.EqualTo(new[] { 10 }));
    }

    [Test]
    public void Hash_IsTheSha256OfTheCanonicalJson()
    {
        TrainingPlan plan = PlanFiles.Load("heart-disease");

        Assert.That(plan.Hash, Is.EqualTo(Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(plan.CanonicalJson)))));
        Assert.That(plan.Hash, Has.Length.EqualTo(64));
    }

    [Test]
    public void Parse_SameDataReorderedAndRespaced_GivesTheSameHash()
    {
        TrainingPlan plan = TrainingPlan.Parse(PlanFiles.Minimal());
        string reordered = """
            {"federation":{"minClients":2,"rounds":2,"strategy":"fedavg"},"metrics":["binary_accuracy"],
             "training":{"localSteps":5,"batchSize":4},"optimizer":{"learningRate":1e-1,"type":"sgd"},"loss":{"type":"bce"},
             "model":{"layers":[{"out":1,"in":2,"type":"linear"},{"type":"sigmoid"}]},
             "data":{"split":{"testFraction":0.250},"label":{"column":"y","task":"binary"},"features":["a","b"]},
             "seed":3,"name":"tiny","format":"federatedsharp.plan/v1"}
            """;

        Assert.That(TrainingPlan.Parse(reordered).Hash, Is.EqualTo(plan.Hash));
    }

    [Test]
    public void Parse_DefaultsWrittenOut_GiveTheSameHashAsOmitted()
    {
        TrainingPlan plan = TrainingPlan.Parse(PlanFiles.Minimal());
        string explicitDefaults = PlanFiles.Minimal(j => j
            .Replace("\"learningRate\": 0.1 }", "\"learningRate\": 0.1, \"momentum\": 0, \"nesterov\": false, \"weightDecay\": 0 }", StringComparison.Ordinal)
            .Replace("{ \"type\": \"linear\", \"in\": 2, \"out\": 1 }", "{ \"type\": \"linear\", \"in\": 2, \"out\": 1, \"bias\": true }", StringComparison.Ordinal));

        Assert.That(TrainingPlan.Parse(explicitDefaults).Hash, Is.EqualTo(plan.Hash));
    }

    [TestCase("\"learningRate\": 0.1", "\"learningRate\": 0.10000001")]
    [TestCase("\"localSteps\": 5", "\"localSteps\": 6")]
    [TestCase("\"rounds\": 2", "\"rounds\": 3")]
    [TestCase("\"seed\": 3", "\"seed\": 4")]
    [TestCase("\"out\": 1 }", "\"out\": 1, \"bias\": false }")]
    [TestCase("\"testFraction\": 0.25", "\"testFraction\": 0.3")]
    public void Parse_OneSettingChanged_GivesANewHash(string from, string to)
    {
        TrainingPlan plan = TrainingPlan.Parse(PlanFiles.Minimal());
        string changed = PlanFiles.Minimal(j => j.Replace(from, to, StringComparison.Ordinal));
        Assume.That(changed, Is.Not.EqualTo(PlanFiles.Minimal()));

        Assert.That(TrainingPlan.Parse(changed).Hash, Is.Not.EqualTo(plan.Hash));
    }

    [Test]
    public void Json_ParsedBack_GivesTheSamePlanAndHash()
    {
        TrainingPlan plan = PlanFiles.Load("digits-cnn");

        TrainingPlan again = TrainingPlan.Parse(plan.Json);

        Assert.That(again.Hash, Is.EqualTo(plan.Hash));
        Assert.That(again.Json, Is.EqualTo(plan.Json));
    }

    [Test]
    public void Parse_NotJson_ReportsWhereTheTextBreaks()
    {
        var e = Assert.Throws<PlanValidationException>(() => TrainingPlan.Parse("{ \"format\": "));

        Assert.That(e!.Errors.Single().Path, Is.EqualTo("$"));
        Assert.That(e.Message, Does.Contain("not valid JSON"));
    }

    [Test]
    public void Parse_UnknownLayer_NamesItAndItsPath()
    {
        string json = PlanFiles.Minimal(j => j.Replace("{ \"type\": \"sigmoid\" }", "{ \"type\": \"conv3d\" }", StringComparison.Ordinal));

        var e = Assert.Throws<PlanValidationException>(() => TrainingPlan.Parse(json));

        PlanError error = e!.Errors.Single();
        Assert.That(error.Path, Is.EqualTo("$.model.layers[1].type"));
        Assert.That(error.Message, Does.Contain("unknown layer 'conv3d'").And.Contain("conv2d"));
    }

    [Test]
    public void Parse_UnknownLoss_NamesIt()
    {
        string json = PlanFiles.Minimal(j => j.Replace("\"type\": \"bce\"", "\"type\": \"hinge\"", StringComparison.Ordinal));

        var e = Assert.Throws<PlanValidationException>(() => TrainingPlan.Parse(json));

        Assert.That(e!.Errors.Single().ToString(), Does.StartWith("$.loss.type: 'hinge' is not one of: bce"));
    }

    [Test]
    public void Parse_SeveralProblems_ReportsEveryOneWithItsPath()
    {
        string json = PlanFiles.Minimal(j => j
            .Replace("\"learningRate\": 0.1", "\"learningRate\": -1", StringComparison.Ordinal)
            .Replace("\"rounds\": 2, ", "", StringComparison.Ordinal)
            .Replace("\"batchSize\": 4", "\"batchsize\": 4", StringComparison.Ordinal)
            .Replace("\"in\": 2", "\"in\": 2.5", StringComparison.Ordinal));

        var e = Assert.Throws<PlanValidationException>(() => TrainingPlan.Parse(json));

        Assert.That(e!.Errors.Select(x => x.Path), Is.EquivalentTo(new[]
        {
            "$.model.layers[0].in", "$.optimizer.learningRate", "$.training.batchsize", "$.federation.rounds",
        }));
        Assert.That(e.Message, Does.Contain("4 errors").And.Contain("$.federation.rounds: is required").And.Contain("-1 is out of range"));
    }

    [Test]
    public void Parse_LayerDoesNotFitItsInput_ReportsTheLayersPathAndShapes()
    {
        string json = PlanFiles.Minimal(j => j.Replace("\"in\": 2", "\"in\": 3", StringComparison.Ordinal));

        var e = Assert.Throws<PlanValidationException>(() => TrainingPlan.Parse(json));

        Assert.That(e!.Errors.Single().ToString(), Is.EqualTo("$.model.layers[0]: linear takes 3 input features but receives shape [2]"));
    }

    [Test]
    public void Parse_OutputDoesNotFitTheLoss_SaysWhatTheLossNeeds()
    {
        string json = PlanFiles.Minimal(j => j.Replace("\"out\": 1", "\"out\": 2", StringComparison.Ordinal));

        var e = Assert.Throws<PlanValidationException>(() => TrainingPlan.Parse(json));

        Assert.That(e!.Errors.Single().Message, Is.EqualTo("the model outputs shape [2] per sample, but bce on a binary label needs [1]"));
    }

    [Test]
    public void Parse_LossForAnotherTask_Refused()
    {
        string json = PlanFiles.Minimal(j => j.Replace("\"type\": \"bce\"", "\"type\": \"cox\"", StringComparison.Ordinal));

        var e = Assert.Throws<PlanValidationException>(() => TrainingPlan.Parse(json));

        Assert.That(e!.Errors.Select(x => x.Path), Is.EqualTo(new[] { "$.loss.type", "$.metrics[0]" }).Or.EqualTo(new[] { "$.loss.type" }));
        Assert.That(e.Errors[0].Message, Does.Contain("survival"));
    }

    [Test]
    public void Parse_UnknownStrategyOrHyperparameter_NamesIt()
    {
        var strategy = Assert.Throws<PlanValidationException>(() => TrainingPlan.Parse(PlanFiles.Minimal(j => j.Replace("\"fedavg\"", "\"fedfoo\"", StringComparison.Ordinal))));
        var hyper = Assert.Throws<PlanValidationException>(() => TrainingPlan.Parse(PlanFiles.Minimal(j =>
            j.Replace("\"strategy\": \"fedavg\"", "\"strategy\": \"fedprox\", \"hyperparameters\": { \"mu\": 0.1 }", StringComparison.Ordinal))));

        Assert.That(strategy!.Errors.Single().ToString(), Does.StartWith("$.federation.strategy: Unknown strategy 'fedfoo'"));
        Assert.That(hyper!.Errors.Single().ToString(), Does.StartWith("$.federation.hyperparameters: Strategy 'fedprox' has no hyperparameter 'mu'"));
    }

    [Test]
    public void Parse_UnknownFormat_Refused()
    {
        var e = Assert.Throws<PlanValidationException>(() => TrainingPlan.Parse(PlanFiles.Minimal(j => j.Replace("plan/v1", "plan/v9", StringComparison.Ordinal))));

        Assert.That(e!.Errors.Single().Path, Is.EqualTo("$.format"));
    }

    [Test]
    public void Parse_MetricOfAnotherTask_Refused()
    {
        var e = Assert.Throws<PlanValidationException>(() => TrainingPlan.Parse(PlanFiles.Minimal(j => j.Replace("\"binary_accuracy\"", "\"c_index\"", StringComparison.Ordinal))));

        Assert.That(e!.Errors.Single().ToString(), Is.EqualTo("$.metrics[0]: the metric 'c_index' does not apply to a binary label"));
    }

    [Test]
    public void Parse_DpSgdWithTheCoxLoss_Refused()
    {
        string json = PlanFiles.Minimal(j => j
            .Replace("{ \"task\": \"binary\", \"column\": \"y\" }", "{ \"task\": \"survival\", \"time\": \"t\", \"event\": \"e\" }", StringComparison.Ordinal)
            .Replace("{ \"type\": \"sigmoid\" }", "{ \"type\": \"tanh\" }", StringComparison.Ordinal)
            .Replace("\"type\": \"bce\"", "\"type\": \"cox\"", StringComparison.Ordinal)
            .Replace("\"binary_accuracy\"", "\"c_index\"", StringComparison.Ordinal)
            .Replace("\"federation\"", "\"privacy\": { \"dpSgd\": { \"maxGradNorm\": 1, \"noiseMultiplier\": 1.1 } }, \"federation\"", StringComparison.Ordinal));

        var e = Assert.Throws<PlanValidationException>(() => TrainingPlan.Parse(json));

        Assert.That(e!.Errors.Single().Path, Is.EqualTo("$.privacy.dpSgd"));
        Assert.That(e.Errors.Single().Message, Does.Contain("centralDp"));
    }

    [Test]
    public void Parse_NestedBlocks_ChecksShapesInside()
    {
        string json = PlanFiles.Minimal(j => j.Replace(
            "{ \"type\": \"linear\", \"in\": 2, \"out\": 1 }",
            "{ \"type\": \"linear\", \"in\": 2, \"out\": 4 }, { \"type\": \"residual\", \"layers\": [ { \"type\": \"linear\", \"in\": 4, \"out\": 3 } ] }, { \"type\": \"linear\", \"in\": 3, \"out\": 1 }",
            StringComparison.Ordinal));

        var e = Assert.Throws<PlanValidationException>(() => TrainingPlan.Parse(json));

        Assert.That(e!.Errors.Single().ToString(), Is.EqualTo("$.model.layers[1]: a residual block must keep its input's shape [4], but its layers output [3]"));
    }

    [Test]
    public void Parse_DuplicateLayerNames_Refused()
    {
        var e = Assert.Throws<PlanValidationException>(() => TrainingPlan.Parse(PlanFiles.Minimal(j => j
            .Replace("\"in\": 2, \"out\": 1 }", "\"in\": 2, \"out\": 1, \"name\": \"x\" }", StringComparison.Ordinal)
            .Replace("{ \"type\": \"sigmoid\" }", "{ \"type\": \"sigmoid\", \"name\": \"x\" }", StringComparison.Ordinal))));

        Assert.That(e!.Errors.Single().ToString(), Is.EqualTo("$.model.layers: two layers are both named 'x'"));
    }

    [Test]
    public void LayerCatalog_Types_CoverTheVocabulary() =>
        Assert.That(LayerCatalog.Types, Is.SupersetOf(new[]
        {
            "linear", "conv1d", "conv2d", "batchnorm1d", "batchnorm2d", "layernorm", "dropout", "relu", "gelu", "tanh", "sigmoid",
            "softmax", "maxpool1d", "maxpool2d", "avgpool2d", "flatten", "embedding", "sequential", "residual",
        }));
}
