using FederatedSharp.Aggregation;
using FederatedSharp.Clients;
using FederatedSharp.Parameters;
using FederatedSharp.Server;
using FederatedSharp.Simulation;
using FederatedSharp.TorchSharp.Training;
using static TorchSharp.torch;

namespace FederatedSharp.TorchSharp.Tests.Simulation;

/// <summary>SCAFFOLD's control variates live in the client state: the README's per-call factory and long-lived clients agree bit for bit.</summary>
public class ScaffoldClientStateTests
{
    // Client i minimises s_i^2 (w - b_i)^2: SCAFFOLD reaches w* = sum s_i^2 b_i / sum s_i^2 only with its control variates.
    private static readonly double[] S = { 0.5, 1.0, 2.0 };
    private static readonly double[] B = { 3.0, -1.0, 1.0 };

    private static TorchTrainerClient Client(int i) => new(new TorchTrainerOptions
    {
        Module = nn.Linear(1, 1, hasBias: false),
        Train = TorchDataSet.FromArrays(Enumerable.Repeat((float)S[i], 8).ToArray(), 1, Enumerable.Repeat((float)(S[i] * B[i]), 8).ToArray()),
        Loss = (output, target) => nn.functional.mse_loss(output, target),
        LearningRate = 0.05,
        BatchSize = 8,
        LocalSteps = 20,
    });

    private static void Configure(FederatedServerBuilder server, ModelParameters initial) => server
        .UseAggregator(new Scaffold())
        .WithInitialParameters(initial)
        .Configure(o => { o.Rounds = 60; o.MinAvailableClients = 3; o.MinFitClients = 3; o.FractionEvaluate = 0; });

    [Test]
    public async Task RunAsync_PerCallFactoryAndLongLivedClients_BitIdenticalScaffoldReachingTheOptimum()
    {
        double optimum = S.Zip(B, (x, y) => x * x * y).Sum() / S.Sum(x => x * x);
        using TorchTrainerClient probe = Client(0);
        using ModelParameters initial = ModelParameters.Create(probe.Layout);

        using FederationResult perCall = await FederatedSimulation.RunAsync(3, Client, s => Configure(s, initial)).WaitAsync(TimeSpan.FromMinutes(2));

        TorchTrainerClient[] longLived = Enumerable.Range(0, 3).Select(Client).ToArray();
        FederationResult kept;
        try
        {
            kept = await FederatedSimulation.RunAsync(longLived, s => Configure(s, initial)).WaitAsync(TimeSpan.FromMinutes(2));
        }
        finally
        {
            foreach (TorchTrainerClient c in longLived)
            {
                c.Dispose();
            }
        }

        using (kept)
        {
            TestContext.Out.WriteLine($"optimum {optimum:F4}, per-call {perCall.Parameters.Values[0]:F4}, long-lived {kept.Parameters.Values[0]:F4}");
            Assert.Multiple(() =>
            {
                Assert.That(kept.Parameters.Values.ToArray(), Is.EqualTo(perCall.Parameters.Values.ToArray()), "bit for bit");
                Assert.That(perCall.Parameters.Values[0], Is.EqualTo(optimum).Within(0.01), "the per-call clients kept their control variates");
                Assert.That(perCall.History.FailedRounds, Is.Zero);
            });
        }
    }
}
