using FederatedSharp.Clients;
using FederatedSharp.Parameters;
using FederatedSharp.TorchSharp.Tests.TestUtilities;
using FederatedSharp.TorchSharp.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace FederatedSharp.TorchSharp.Tests.Training;

public class TorchTrainerClientTests
{
    private static TorchDataSet Data(int n, ulong seed) => SyntheticBinaryData.Create(n, seed);

    private static TorchTrainerClient Client(int steps = 50, double mu = 0, double lr = 0.5, DpSgdOptions? dp = null)
    {
        torch.random.manual_seed(1);
        return new TorchTrainerClient(new TorchTrainerOptions
        {
            DpSgd = dp,
            Module = nn.Sequential(("fc", nn.Linear(2, 1)), ("sigmoid", nn.Sigmoid())),
            Train = Data(200, 1),
            Test = Data(100, 2),
            Loss = nn.BCELoss().forward,
            LearningRate = lr,
            BatchSize = 8,
            LocalSteps = steps,
            ProximalMu = mu,
            Seed = 3,
            Metrics = { ["accuracy"] = TorchMetrics.BinaryAccuracy() },
        });
    }

    [Test]
    public async Task FitAsync_FromZeroModel_LearnsTheTask()
    {
        using TorchTrainerClient client = Client(steps: 200);
        using ModelParameters zero = ModelParameters.Create(client.Layout);
        EvaluateResult before = await client.EvaluateAsync(new EvaluateInstructions(1, zero, ConfigRecord.Empty));
        using FitResult fit = await client.FitAsync(new FitInstructions(1, zero, ConfigRecord.Empty));
        EvaluateResult after = await client.EvaluateAsync(new EvaluateInstructions(1, fit.Parameters, ConfigRecord.Empty));
        Assert.Multiple(() =>
        {
            Assert.That(fit.ExampleCount, Is.EqualTo(200));
            Assert.That(fit.Metrics.ContainsKey(ConfigKeys.TrainLoss), Is.True);
            Assert.That(after.Loss, Is.LessThan(before.Loss * 0.7));
            Assert.That(after.Metrics.GetDouble("accuracy", 0), Is.GreaterThan(0.9));
            Assert.That(after.ExampleCount, Is.EqualTo(100));
            Assert.That(zero.Values.ToArray(), Is.All.EqualTo(0f), "the instructions' parameters are not modified");
        });
    }

    [Test]
    public async Task FitAsync_SameSeedAndRound_BitIdenticalResult()
    {
        using TorchTrainerClient a = Client();
        using TorchTrainerClient b = Client();
        using ModelParameters zero = ModelParameters.Create(a.Layout);
        using FitResult ra = await a.FitAsync(new FitInstructions(4, zero, ConfigRecord.Empty));
        using FitResult rb = await b.FitAsync(new FitInstructions(4, zero, ConfigRecord.Empty));
        using FitResult other = await b.FitAsync(new FitInstructions(5, zero, ConfigRecord.Empty));
        Assert.Multiple(() =>
        {
            Assert.That(rb.Parameters.Values.ToArray(), Is.EqualTo(ra.Parameters.Values.ToArray()));
            Assert.That(other.Parameters.Values.ToArray(), Is.Not.EqualTo(ra.Parameters.Values.ToArray()), "another round shuffles batches differently");
        });
    }

    [Test]
    public async Task FitAsync_ProximalMu_KeepsWeightsCloserToGlobal()
    {
        static double Distance(ModelParameters a, ModelParameters b) =>
            Math.Sqrt(a.Values.ToArray().Zip(b.Values.ToArray(), (x, y) => (double)(x - y) * (x - y)).Sum());

        using TorchTrainerClient client = Client(steps: 100);
        using ModelParameters zero = ModelParameters.Create(client.Layout);
        using FitResult plain = await client.FitAsync(new FitInstructions(1, zero, ConfigRecord.Empty));
        using FitResult proximal = await client.FitAsync(new FitInstructions(1, zero, new ConfigRecord { [ConfigKeys.ProximalMu] = 1.0 }));
        double plainDistance = Distance(plain.Parameters, zero);
        double proximalDistance = Distance(proximal.Parameters, zero);
        TestContext.Out.WriteLine($"distance from global: plain {plainDistance:F4}, mu=1 {proximalDistance:F4}");
        Assert.That(proximalDistance, Is.LessThan(plainDistance * 0.8));
    }

    [Test]
    public async Task FitAsync_ConfigLocalStepsAndLearningRate_OverrideOptions()
    {
        using TorchTrainerClient client = Client(steps: 50);
        using ModelParameters zero = ModelParameters.Create(client.Layout);
        using FitResult none = await client.FitAsync(new FitInstructions(1, zero, new ConfigRecord { [ConfigKeys.LearningRate] = 1e-12 }));
        Assert.That(none.Parameters.Values.ToArray(), Is.All.EqualTo(0f).Within(1e-9), "a learning rate of 1e-12 from the server barely moves the model");
        using FitResult one = await client.FitAsync(new FitInstructions(1, zero, new ConfigRecord { [ConfigKeys.LocalSteps] = 1 }));
        using FitResult many = await client.FitAsync(new FitInstructions(1, zero, new ConfigRecord { [ConfigKeys.LocalSteps] = 30 }));
        Assert.That(many.Parameters.Values.ToArray(), Is.Not.EqualTo(one.Parameters.Values.ToArray()));
    }

    [Test]
    public async Task FitAsync_InvalidConfig_ThrowsClearly()
    {
        using TorchTrainerClient client = Client();
        using ModelParameters zero = ModelParameters.Create(client.Layout);
        var ex = await Assert.ThrowsAsync<ArgumentException>(() => client.FitAsync(new FitInstructions(1, zero, new ConfigRecord { [ConfigKeys.BatchSize] = 0 })));
        Assert.That(ex!.Message, Does.Contain("batch size 0"));
    }

    [Test]
    public void FitAsync_CancelledBeforeStart_Throws()
    {
        using TorchTrainerClient client = Client();
        using ModelParameters zero = ModelParameters.Create(client.Layout);
        using var cts = new CancellationTokenSource();
        cts.Cancel();
        Assert.That(async () => await client.FitAsync(new FitInstructions(1, zero, ConfigRecord.Empty), cts.Token), Throws.InstanceOf<OperationCanceledException>());
    }

    [Test]
    public async Task FitAsync_CancelledMidTraining_Throws()
    {
        using TorchTrainerClient client = Client(steps: 5_000_000);
        using ModelParameters zero = ModelParameters.Create(client.Layout);
        using var cts = new CancellationTokenSource();
        Task<FitResult> fit = client.FitAsync(new FitInstructions(1, zero, ConfigRecord.Empty), cts.Token);
        await Task.Yield();
        cts.Cancel();
        Assert.That(async () => await fit.WaitAsync(TimeSpan.FromSeconds(30)), Throws.InstanceOf<OperationCanceledException>());
    }

    // Client i minimises s_i^2 (w - b_i)^2 (features all s_i, targets s_i b_i, no bias): different curvatures, so
    // FedAvg with many local steps settles at a biased point, while SCAFFOLD's corrected steps reach the optimum of the
    // sum, w* = sum s_i^2 b_i / sum s_i^2 (Karimireddy et al. 2020).
    [Test]
    public async Task FitAsync_ScaffoldFederation_ReachesTheOptimumFedAvgMisses()
    {
        double[] s = { 0.5, 1.0, 2.0 };
        double[] b = { 3.0, -1.0, 1.0 };
        double optimum = s.Zip(b, (x, y) => x * x * y).Sum() / s.Sum(x => x * x);

        async Task<float> Run(FederatedSharp.Aggregation.IAggregator strategy)
        {
            await using var transport = new FederatedSharp.Transport.InMemory.InMemoryTransport();
            var clients = new List<TorchTrainerClient>();
            for (int i = 0; i < s.Length; i++)
            {
                float[] features = Enumerable.Repeat((float)s[i], 8).ToArray();
                float[] targets = Enumerable.Repeat((float)(s[i] * b[i]), 8).ToArray();
                var client = new TorchTrainerClient(new TorchTrainerOptions
                {
                    Module = nn.Linear(1, 1, hasBias: false),
                    Train = TorchDataSet.FromArrays(features, 1, targets),
                    Loss = (output, target) => nn.functional.mse_loss(output, target),
                    LearningRate = 0.05,
                    BatchSize = 8,
                    LocalSteps = 20,
                });
                clients.Add(client);
                transport.AddClient($"c{i}", client);
            }

            using ModelParameters initial = ModelParameters.Create(clients[0].Layout);
            FederatedSharp.Server.FederatedServer server = new FederatedSharp.Server.FederatedServerBuilder()
                .UseTransport(transport).UseAggregator(strategy).WithInitialParameters(initial)
                .Configure(o =>
                {
                    o.Rounds = 60;
                    o.MinAvailableClients = 3;
                    o.MinFitClients = 3;
                    o.FractionEvaluate = 0;
                })
                .Build();
            using FederatedSharp.Server.FederationResult result = await server.RunAsync().WaitAsync(TimeSpan.FromMinutes(2));
            foreach (TorchTrainerClient c in clients)
            {
                Assert.That(strategy is FederatedSharp.Aggregation.Scaffold ? c.GetControlVariate() : null, strategy is FederatedSharp.Aggregation.Scaffold ? Is.Not.Null : Is.Null);
                c.Dispose();
            }

            return result.Parameters.Values[0];
        }

        float scaffold = await Run(new FederatedSharp.Aggregation.Scaffold());
        float fedAvg = await Run(new FederatedSharp.Aggregation.FedAvg());
        TestContext.Out.WriteLine($"optimum {optimum:F4}, SCAFFOLD {scaffold:F4}, FedAvg {fedAvg:F4}");
        Assert.Multiple(() =>
        {
            Assert.That(scaffold, Is.EqualTo(optimum).Within(0.01));
            Assert.That(Math.Abs(fedAvg - optimum), Is.GreaterThan(0.1), "FedAvg's client drift is real in this problem");
        });
    }

    [Test]
    public async Task FitAsync_ReportInitialLossRequested_ReportsLossAtTheGlobalModel()
    {
        using TorchTrainerClient client = Client();
        using ModelParameters zero = ModelParameters.Create(client.Layout);
        using FitResult fit = await client.FitAsync(new FitInstructions(1, zero, new ConfigRecord { [ConfigKeys.ReportInitialLoss] = true }));
        EvaluateResult atZero = client.Evaluate(zero, null);
        Assert.That(fit.Metrics.GetDouble(ConfigKeys.InitialLoss, -1), Is.EqualTo(Math.Log(2)).Within(1e-5), "a zero logistic model predicts 0.5: BCE = ln 2");
        Assert.That(atZero.Loss, Is.GreaterThan(0));
    }

    [Test]
    public async Task FitAsync_DpSgdWithoutNoiseOrClipping_MatchesPlainSgd()
    {
        using TorchTrainerClient plain = Client(steps: 10);
        using TorchTrainerClient dp = Client(steps: 10, dp: new DpSgdOptions { MaxGradNorm = 1e9, NoiseMultiplier = 0 });
        using ModelParameters zero = ModelParameters.Create(plain.Layout);
        using FitResult a = await plain.FitAsync(new FitInstructions(1, zero, ConfigRecord.Empty));
        using FitResult b = await dp.FitAsync(new FitInstructions(1, zero, ConfigRecord.Empty));
        Assert.That(b.Parameters.Values.ToArray(), Is.EqualTo(a.Parameters.Values.ToArray()).Within(1e-5), "the mean of per-example gradients is the batch gradient");
    }

    [Test]
    public async Task FitAsync_DpSgdClipping_BoundsEveryStep()
    {
        // One step with lr 0.5 and per-example gradients clipped to 0.01: the mean gradient has norm <= 0.01.
        using TorchTrainerClient dp = Client(steps: 1, dp: new DpSgdOptions { MaxGradNorm = 0.01, NoiseMultiplier = 0 });
        using ModelParameters zero = ModelParameters.Create(dp.Layout);
        using FitResult r = await dp.FitAsync(new FitInstructions(1, zero, ConfigRecord.Empty));
        double norm = Math.Sqrt(r.Parameters.Values.ToArray().Sum(v => (double)v * v));
        Assert.That(norm, Is.LessThanOrEqualTo((0.5 * 0.01) + 1e-7).And.GreaterThan(0));
    }

    [Test]
    public async Task FitAsync_DpSgd_ReportsGrowingEpsilon()
    {
        using TorchTrainerClient dp = Client(steps: 5, dp: new DpSgdOptions { MaxGradNorm = 1, NoiseMultiplier = 1.1 });
        using ModelParameters zero = ModelParameters.Create(dp.Layout);
        using FitResult first = await dp.FitAsync(new FitInstructions(1, zero, ConfigRecord.Empty));
        using FitResult second = await dp.FitAsync(new FitInstructions(2, zero, ConfigRecord.Empty));
        var accountant = new FederatedSharp.Privacy.RdpAccountant();
        accountant.Step(8.0 / 200, 1.1, 10);
        Assert.Multiple(() =>
        {
            Assert.That(second.Metrics.GetDouble("dpsgd_epsilon", 0), Is.GreaterThan(first.Metrics.GetDouble("dpsgd_epsilon", 0)));
            Assert.That(second.Metrics.GetDouble("dpsgd_epsilon", 0), Is.EqualTo(accountant.GetPrivacySpent(1e-5).Epsilon).Within(1e-9));
        });
    }

    [Test]
    public void Constructor_MissingLoss_Throws()
    {
        Assert.Throws<ArgumentException>(() => _ = new TorchTrainerClient(new TorchTrainerOptions { Module = nn.Linear(2, 1), Train = Data(4, 1) }));
    }

    [Test]
    public async Task GetPropertiesAsync_ReportsDataSizes()
    {
        using TorchTrainerClient client = Client();
        ConfigRecord properties = await client.GetPropertiesAsync();
        Assert.That((properties.GetInt64("train_examples", 0), properties.GetInt64("test_examples", 0)), Is.EqualTo((200L, 100L)));
    }

    // The Cox partial likelihood (every event observed): -mean_i [r_i - log sum_{j: t_j >= t_i} exp(r_j)]. Over a single
    // example it is identically 0, so DP-SGD's per-example gradients vanish.
    private static Tensor CoxLoss(Tensor risk, Tensor time)
    {
        Tensor r = risk.reshape(-1);
        Tensor t = time.reshape(-1);
        Tensor atRisk = t.unsqueeze(0).ge(t.unsqueeze(1)).to_type(ScalarType.Float32);
        Tensor log = (atRisk * r.exp().unsqueeze(0)).sum(1).log();
        return -(r - log).mean();
    }

    private static TorchTrainerClient CoxClient(DpSgdOptions? dp, bool declared = true)
    {
        torch.random.manual_seed(4);
        var random = new DeterministicRandom(9);
        float[] x = Enumerable.Range(0, 64).Select(_ => (float)random.NextDouble()).ToArray();
        float[] t = Enumerable.Range(0, 32).Select(i => (float)(1 + ((i * 7) % 32))).ToArray();
        return new TorchTrainerClient(new TorchTrainerOptions
        {
            Module = nn.Linear(2, 1, hasBias: false),
            Train = TorchDataSet.FromArrays(x, 2, t),
            Loss = CoxLoss,
            LearningRate = 0.1,
            BatchSize = 16,
            LocalSteps = 10,
            DpSgd = dp,
            LossDecomposesPerExample = declared,
        });
    }

    [Test]
    public void Constructor_DpSgdWithALossDeclaredWholeBatch_RefusedClearly()
    {
        var ex = Assert.Throws<ArgumentException>(() => CoxClient(new DpSgdOptions { MaxGradNorm = 1, NoiseMultiplier = 1 }, declared: false));
        Assert.That(ex!.Message, Does.Contain("Cox").And.Contain("UseCentralDp"));
    }

    [Test]
    public async Task FitAsync_DpSgdWithCoxLossNotDeclared_FailsClearlyInsteadOfNotTraining()
    {
        using TorchTrainerClient plain = CoxClient(dp: null);
        using ModelParameters initial = ModelParameters.Create(plain.Layout);
        using FitResult trained = await plain.FitAsync(new FitInstructions(1, initial, ConfigRecord.Empty));
        using TorchTrainerClient dp = CoxClient(new DpSgdOptions { MaxGradNorm = 1e9, NoiseMultiplier = 0 });

        var ex = await Assert.ThrowsAsync<InvalidOperationException>(async () => await dp.FitAsync(new FitInstructions(1, initial, ConfigRecord.Empty)));
        Assert.Multiple(() =>
        {
            Assert.That(trained.Parameters.Values.ToArray().Select(Math.Abs).Max(), Is.GreaterThan(1e-3), "without DP-SGD the loss trains");
            Assert.That(ex!.Message, Does.Contain("does not decompose per example").And.Contain("LossDecomposesPerExample"));
        });
    }
}
