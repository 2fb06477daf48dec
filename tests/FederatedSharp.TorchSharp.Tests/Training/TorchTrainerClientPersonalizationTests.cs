using System.Text;
using FederatedSharp.Clients;
using FederatedSharp.Parameters;
using FederatedSharp.Serialization;
using FederatedSharp.TorchSharp.Tests.TestUtilities;
using FederatedSharp.TorchSharp.Training;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace FederatedSharp.TorchSharp.Tests.Training;

/// <summary>TorchTrainerClient personalisation: FedPer, FedBN and local fine-tuning through TorchTrainerOptions.</summary>
public class TorchTrainerClientPersonalizationTests
{
    // Each site has its own shift, so a personal head helps.
    private static TorchDataSet Data(int n, ulong seed, float shift = 0) => SyntheticBinaryData.Create(n, seed, shift);

    private static nn.Module<Tensor, Tensor> Model(bool norm = false)
    {
        torch.random.manual_seed(1);
        return norm
            ? nn.Sequential(("body", nn.Linear(2, 8)), ("bn", nn.BatchNorm1d(8)), ("relu", nn.ReLU()), ("head", nn.Linear(8, 1)), ("sigmoid", nn.Sigmoid()))
            : nn.Sequential(("body", nn.Linear(2, 8)), ("relu", nn.ReLU()), ("head", nn.Linear(8, 1)), ("sigmoid", nn.Sigmoid()));
    }

    private static TorchTrainerClient Client(PersonalizationOptions personalization, bool norm = false, float shift = 0, nn.Module<Tensor, Tensor>? module = null) => new(new TorchTrainerOptions
    {
        Module = module ?? Model(norm),
        Train = Data(200, 1, shift),
        Test = Data(100, 2, shift),
        Loss = nn.BCELoss().forward,
        LearningRate = 0.5,
        BatchSize = 16,
        LocalSteps = 40,
        Seed = 3,
        Metrics = { ["accuracy"] = TorchMetrics.BinaryAccuracy() },
        Personalization = personalization,
    });

    private static PersonalizationOptions FedPer() => new() { Method = PersonalizationMethod.FedPer, PersonalLayers = { "head." } };

    [Test]
    public async Task FitAsync_FedPer_HeadNeverInTheLayoutTheUpdateOrItsSerializedBytes()
    {
        using TorchTrainerClient client = Client(FedPer());
        using ModelParameters global = ModelParameters.Create(client.Layout);
        var state = new ClientState("site");

        using FitResult fit = await client.FitAsync(new FitInstructions(1, global, ConfigRecord.Empty) { State = state });

        byte[] wire = new BinaryModelSerializer().SerializeToArray(fit.Parameters);
        Assert.Multiple(() =>
        {
            Assert.That(client.Layout.Tensors.Select(t => t.Name), Is.EqualTo(new[] { "body.weight", "body.bias" }), "the server's layout lacks the head");
            Assert.That(fit.Parameters.Layout, Is.EqualTo(client.Layout));
            Assert.That(Encoding.UTF8.GetString(wire), Does.Not.Contain("head"), "no personal tensor name on the wire");
            Assert.That(wire.Length, Is.LessThan(8 * 3 * 4 + 200), "and no room for its 9 values beyond the body's 24 and the header");
            Assert.That(state.GetFloats("personal/head.weight"), Has.Length.EqualTo(8), "the head is kept in the site's state");
        });
    }

    [Test]
    public async Task EvaluateAsync_FedPerOnAFreshClientWithTheSitesState_UsesThePersonalHead()
    {
        using TorchTrainerClient first = Client(FedPer(), shift: 0.5f);
        using ModelParameters global = ModelParameters.Create(first.Layout);
        var state = new ClientState("site");
        using FitResult fit = await first.FitAsync(new FitInstructions(1, global, ConfigRecord.Empty) { State = state });
        EvaluateResult before = await first.EvaluateAsync(new EvaluateInstructions(1, fit.Parameters, ConfigRecord.Empty) { State = state });

        // A re-created client (a simulation's virtual client) with another initial head: the state brings the trained one back.
        torch.random.manual_seed(99);
        using TorchTrainerClient recreated = Client(FedPer(), shift: 0.5f, module: nn.Sequential(("body", nn.Linear(2, 8)), ("relu", nn.ReLU()), ("head", nn.Linear(8, 1)), ("sigmoid", nn.Sigmoid())));
        EvaluateResult withoutState = await recreated.EvaluateAsync(new EvaluateInstructions(1, fit.Parameters, ConfigRecord.Empty));
        EvaluateResult withState = await recreated.EvaluateAsync(new EvaluateInstructions(1, fit.Parameters, ConfigRecord.Empty) { State = state });

        Assert.Multiple(() =>
        {
            Assert.That(withState.Loss, Is.EqualTo(before.Loss).Within(1e-6));
            Assert.That(withState.Metrics["personal_accuracy"].AsDouble(), Is.EqualTo(before.Metrics["personal_accuracy"].AsDouble()));
            Assert.That(withoutState.Loss, Is.Not.EqualTo(before.Loss).Within(1e-6), "without the state the head is the fresh one");
        });
    }

    [Test]
    public async Task FitAsync_FedBN_NormalisationParametersAndRunningStatisticsStayLocal()
    {
        using TorchTrainerClient client = Client(new PersonalizationOptions { Method = PersonalizationMethod.FedBN }, norm: true);
        using ModelParameters global = client.GetParameters();
        var state = new ClientState("site");

        using FitResult fit = await client.FitAsync(new FitInstructions(1, global, ConfigRecord.Empty) { State = state });

        Assert.Multiple(() =>
        {
            Assert.That(client.Layout.Tensors.Select(t => t.Name), Is.EqualTo(new[] { "body.weight", "body.bias", "head.weight", "head.bias" }));
            Assert.That(state.GetFloats("personal/bn.weight"), Has.Length.EqualTo(8));
            Assert.That(state.GetFloats("personal/bn.running_mean"), Has.Length.EqualTo(8));
            Assert.That(state.GetFloats("personal/bn.running_mean")!, Has.Some.Not.EqualTo(0f), "the running statistics moved during local training");
        });
    }

    [Test]
    public async Task EvaluateAsync_FineTune_ReportsTheGlobalModelAndTheFineTunedOne()
    {
        var fineTune = new PersonalizationOptions { Method = PersonalizationMethod.FineTune, FineTuneSteps = 30 };
        using TorchTrainerClient client = Client(fineTune, shift: 0.6f);
        using TorchTrainerClient plain = Client(new PersonalizationOptions(), shift: 0.6f);
        using ModelParameters global = ModelParameters.Create(client.Layout);

        EvaluateResult result = await client.EvaluateAsync(new EvaluateInstructions(1, global, ConfigRecord.Empty));
        EvaluateResult reference = await plain.EvaluateAsync(new EvaluateInstructions(1, global, ConfigRecord.Empty));

        Assert.Multiple(() =>
        {
            Assert.That(result.Loss, Is.EqualTo(reference.Loss).Within(1e-6), "the global model's figures are the plain client's");
            Assert.That(result.Metrics["accuracy"].AsDouble(), Is.EqualTo(reference.Metrics["accuracy"].AsDouble()));
            Assert.That(result.Metrics["personal_loss"].AsDouble(), Is.LessThan(result.Loss), "30 local steps from the zero model fit the site better");
            Assert.That(plain.Layout, Is.EqualTo(client.Layout), "fine-tuning keeps the whole model federated");
        });
    }

    [Test]
    public void Constructor_BadPersonalisation_ThrowsNamingTheProblem()
    {
        Assert.Multiple(() =>
        {
            Assert.That(() => Client(new PersonalizationOptions { Method = PersonalizationMethod.FedPer }), Throws.ArgumentException.With.Message.Contains("PersonalLayers"));
            Assert.That(() => Client(new PersonalizationOptions { Method = PersonalizationMethod.FedPer, PersonalLayers = { "classifier.*" } }),
                Throws.ArgumentException.With.Message.Contains("'classifier.*' matches no parameter").And.Message.Contains("head.weight"));
            Assert.That(() => Client(new PersonalizationOptions { Method = PersonalizationMethod.FedPer, PersonalLayers = { "*" } }),
                Throws.ArgumentException.With.Message.Contains("nothing would be federated"));
            Assert.That(() => Client(new PersonalizationOptions { Method = PersonalizationMethod.FedBN }), Throws.ArgumentException.With.Message.Contains("no normalisation layer"));
        });
    }

    [Test]
    public async Task FitAsync_FedRep_HeadPhaseFreezesTheBodyThenBodyPhaseFreezesTheHead()
    {
        var phases = new List<(int Trainable, float[] Body, float[] Head)>();
        nn.Module<Tensor, Tensor> module = Model();
        var body = (Parameter)module.named_parameters().First(p => p.name == "body.weight").parameter;
        var head = (Parameter)module.named_parameters().First(p => p.name == "head.weight").parameter;
        var options = new TorchTrainerOptions
        {
            Module = module,
            Train = Data(200, 1, 0.3f),
            Loss = nn.BCELoss().forward,
            LearningRate = 0.5,
            BatchSize = 16,
            LocalSteps = 20,
            Personalization = new PersonalizationOptions { Method = PersonalizationMethod.FedRep, PersonalLayers = { "head." }, HeadEpochs = 2 },
            OptimizerFactory = (parameters, lr) =>
            {
                // Each phase's optimizer: which parameters it trains, and the module's values when the phase starts.
                phases.Add((parameters.Count(), body.data<float>().ToArray(), head.data<float>().ToArray()));
                return optim.SGD(parameters, lr);
            },
        };
        using var client = new TorchTrainerClient(options);
        using ModelParameters global = client.GetParameters();
        float[] globalBody = global.GetTensor(0).ToArray();

        using FitResult fit = await client.FitAsync(new FitInstructions(1, global, ConfigRecord.Empty) { State = new ClientState("site") });

        float[] headAfter = head.data<float>().ToArray();
        Assert.Multiple(() =>
        {
            Assert.That(phases.Select(p => p.Trainable), Is.EqualTo(new[] { 2, 2 }), "head (weight, bias), then body (weight, bias)");
            Assert.That(phases[1].Body, Is.EqualTo(globalBody), "the body did not move while the head trained");
            Assert.That(phases[1].Head, Is.Not.EqualTo(phases[0].Head), "the head trained in the first phase");
            Assert.That(headAfter, Is.EqualTo(phases[1].Head), "the head did not move while the body trained");
            Assert.That(fit.Parameters.GetTensor(0).ToArray(), Is.Not.EqualTo(globalBody), "the body trained in the second phase");
            Assert.That(fit.Parameters.Layout.Tensors.Select(t => t.Name), Is.EqualTo(new[] { "body.weight", "body.bias" }), "only the body travels");
        });
    }

    private static async Task<float[]> DittoPersonalAfterTwoRounds(double lambda, float secondGlobal)
    {
        using TorchTrainerClient client = Client(new PersonalizationOptions { Method = PersonalizationMethod.Ditto, DittoLambda = lambda }, shift: 0.5f);
        var state = new ClientState("site");
        using ModelParameters first = client.GetParameters();
        using ModelParameters second = TestModelsFilled(client.Layout, secondGlobal);
        (await client.FitAsync(new FitInstructions(1, first, ConfigRecord.Empty) { State = state })).Dispose();
        (await client.FitAsync(new FitInstructions(2, second, ConfigRecord.Empty) { State = state })).Dispose();
        return state.GetFloats("ditto/personal")!;
    }

    private static ModelParameters TestModelsFilled(TensorLayout layout, float value)
    {
        ModelParameters p = ModelParameters.Create(layout);
        p.Values.Fill(value);
        return p;
    }

    [Test]
    public async Task FitAsync_DittoLambdaZero_IsLocalTrainingWhateverTheGlobalModel()
    {
        float[] a = await DittoPersonalAfterTwoRounds(0, 0.1f);
        float[] b = await DittoPersonalAfterTwoRounds(0, -0.7f);
        float[] pulled = await DittoPersonalAfterTwoRounds(0.5, -0.7f);

        Assert.That(a, Is.EqualTo(b), "with lambda 0 the second round's global model does not touch the personal one");
        Assert.That(pulled, Is.Not.EqualTo(b), "with lambda > 0 it does");
    }

    [Test]
    public async Task FitAsync_DittoLargeLambda_PersonalModelApproachesTheGlobalOne()
    {
        static double Distance(float[] v, float w) => Math.Sqrt(v.Sum(x => (x - w) * (x - w)));

        // lr 0.5 x lambda 2 = 1: each step lands v on w, then the data's gradient moves it a little.
        double local = Distance(await DittoPersonalAfterTwoRounds(0, -0.7f), -0.7f);
        double strong = Distance(await DittoPersonalAfterTwoRounds(2, -0.7f), -0.7f);

        TestContext.Out.WriteLine($"||v - w||: lambda 0 {local:F4}, lambda 2 {strong:F4}");
        Assert.That(strong, Is.LessThan(local * 0.2));
    }

    [Test]
    public async Task EvaluateAsync_Ditto_ReportsTheGlobalModelAndThePersonalOne()
    {
        using TorchTrainerClient client = Client(new PersonalizationOptions { Method = PersonalizationMethod.Ditto, DittoLambda = 0.01 }, shift: 0.6f);
        using TorchTrainerClient plain = Client(new PersonalizationOptions(), shift: 0.6f);
        var state = new ClientState("site");
        using ModelParameters global = client.GetParameters();
        using FitResult fit = await client.FitAsync(new FitInstructions(1, global, ConfigRecord.Empty) { State = state });
        using FitResult reference = await plain.FitAsync(new FitInstructions(1, global, ConfigRecord.Empty));

        EvaluateResult result = await client.EvaluateAsync(new EvaluateInstructions(1, global, ConfigRecord.Empty) { State = state });

        Assert.Multiple(() =>
        {
            Assert.That(fit.Parameters.Values.ToArray(), Is.EqualTo(reference.Parameters.Values.ToArray()), "the travelling update is ordinary local training");
            Assert.That(result.Metrics["personal_loss"].AsDouble(), Is.LessThan(result.Loss), "the personal model fits the site better than the untrained global one");
        });
    }
}
