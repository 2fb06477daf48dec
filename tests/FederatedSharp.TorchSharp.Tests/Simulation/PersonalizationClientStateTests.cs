using FederatedSharp.Aggregation;
using FederatedSharp.Parameters;
using FederatedSharp.Server;
using FederatedSharp.Server.Checkpoints;
using FederatedSharp.Simulation;
using FederatedSharp.TorchSharp.Tests.TestUtilities;
using FederatedSharp.TorchSharp.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace FederatedSharp.TorchSharp.Tests.Simulation;

/// <summary>FedPer's personal heads live in the client state: re-created clients, long-lived ones and a resumed federation agree bit for bit.</summary>
public class PersonalizationClientStateTests
{
    // Each site has its own shift, so a personal head helps.
    private static TorchDataSet Data(int n, ulong seed, float shift = 0) => SyntheticBinaryData.Create(n, seed, shift);

    private static TorchTrainerClient Client(int i)
    {
        torch.random.manual_seed(1);
        return new TorchTrainerClient(new TorchTrainerOptions
        {
            Module = nn.Sequential(("body", nn.Linear(2, 8)), ("relu", nn.ReLU()), ("head", nn.Linear(8, 1)), ("sigmoid", nn.Sigmoid())),
            Train = Data(100, (ulong)i, 0.4f * (i - 1)),
            Test = Data(50, (ulong)(10 + i), 0.4f * (i - 1)),
            Loss = nn.BCELoss().forward,
            LearningRate = 0.3,
            BatchSize = 10,
            LocalSteps = 10,
            Seed = (ulong)i,
            Metrics = { ["accuracy"] = TorchMetrics.BinaryAccuracy() },
            Personalization = new PersonalizationOptions { Method = PersonalizationMethod.FedPer, PersonalLayers = { "head." } },
        });
    }

    private static Action<FederatedServerBuilder> Configure(ModelParameters initial, int rounds, string? checkpoints = null) => server =>
    {
        server.UseAggregator(new FedAvg()).WithInitialParameters(initial)
            .Configure(o => { o.Rounds = rounds; o.MinAvailableClients = 3; o.MinFitClients = 3; o.MinEvaluateClients = 3; });
        if (checkpoints is not null)
        {
            server.UseCheckpointStore(new FileCheckpointStore(checkpoints));
        }
    };

    [Test]
    public async Task RunAsync_FedPerPerCallClientsLongLivedAndResumed_BitIdentical()
    {
        using TorchTrainerClient probe = Client(0);
        using ModelParameters initial = probe.GetParameters();
        Assert.That(initial.Layout.Tensors.Select(t => t.Name), Has.None.StartsWith("head"), "the server's model lacks the personal head");

        using FederationResult perCall = await FederatedSimulation.RunAsync(3, Client, Configure(initial, 6)).WaitAsync(TimeSpan.FromMinutes(2));

        TorchTrainerClient[] longLived = Enumerable.Range(0, 3).Select(Client).ToArray();
        FederationResult kept;
        try
        {
            kept = await FederatedSimulation.RunAsync(longLived, Configure(initial, 6)).WaitAsync(TimeSpan.FromMinutes(2));
        }
        finally
        {
            foreach (TorchTrainerClient c in longLived)
            {
                c.Dispose();
            }
        }

        string directory = Path.Combine(Path.GetTempPath(), "fedper-resume-" + Guid.NewGuid().ToString("N"));
        try
        {
            (await FederatedSimulation.RunAsync(3, Client, Configure(initial, 3, directory)).WaitAsync(TimeSpan.FromMinutes(2))).Dispose();
            using FederationResult resumed = await FederatedSimulation.RunAsync(3, Client, Configure(initial, 6, directory)).WaitAsync(TimeSpan.FromMinutes(2));
            using (kept)
            {
                double personal = perCall.History.Rounds[^1].DistributedMetrics["personal_accuracy"].AsDouble();
                TestContext.Out.WriteLine($"personalised accuracy after 6 rounds: {personal:F3}");
                Assert.Multiple(() =>
                {
                    Assert.That(kept.Parameters.Values.ToArray(), Is.EqualTo(perCall.Parameters.Values.ToArray()), "re-created clients got their heads back from the state");
                    Assert.That(resumed.Parameters.Values.ToArray(), Is.EqualTo(perCall.Parameters.Values.ToArray()), "the heads survived the checkpoint");
                    Assert.That(resumed.History.Rounds[^1].DistributedMetrics["personal_accuracy"].AsDouble(), Is.EqualTo(personal));
                    Assert.That(personal, Is.GreaterThan(0.8));
                });
            }
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }
}
