using FederatedSharp.Aggregation;
using FederatedSharp.Clients;
using FederatedSharp.Parameters;
using FederatedSharp.Server;
using FederatedSharp.Simulation.Attacks;
using FederatedSharp.TorchSharp.Tests.TestUtilities;
using FederatedSharp.TorchSharp.Training;
using FederatedSharp.Transport.InMemory;

namespace FederatedSharp.TorchSharp.Tests.Simulation;

/// <summary>
/// Robust aggregation under attack: 20 clients on Heart-Disease-like data, 4 of them (20%) Byzantine, 20 rounds with
/// every client each round. The table (printed, and copied into docs/security.md) compares each strategy's test
/// accuracy under each attack with clean FedAvg.
/// </summary>
public class ByzantineClientTests
{
    private const int Clients = 20;
    private const int Attackers = 4;

    private static readonly (string Name, Func<IAggregator> Create)[] Strategies =
    {
        ("FedAvg", () => new FedAvg()),
        ("Krum", () => new Krum(Attackers)),
        ("MultiKrum", () => new Krum(Attackers, 10)),
        ("FedMedian", () => new FedMedian()),
        ("FedTrimmedAvg", () => new FedTrimmedAvg(0.2)),
        ("Bulyan", () => new Bulyan(Attackers)),
    };

    [Test]
    public async Task RunAsync_TwentyPercentAttackers_RobustStrategiesHoldWhileFedAvgBreaks()
    {
        (float[] testX, float[] testY) = SyntheticHeartData.Generate(1000, 999, 0);
        using TorchDataSet test = TorchDataSet.FromArrays(testX, SyntheticHeartData.Features, testY);
        double clean = await AccuracyAsync(() => new FedAvg(), attack: null, test);
        var table = new List<string> { $"| attack (4 of 20 clients) | {string.Join(" | ", Strategies.Select(s => s.Name))} |", $"|---|{string.Join("|", Strategies.Select(_ => "---"))}|" };
        var results = new Dictionary<(string Attack, string Strategy), double>();
        foreach (string attack in new[] { "none", "sign flip x10", "Gaussian noise (sigma 1)", "small shift (1.5|d|)", "a little is enough (colluding)", "label flip" })
        {
            var row = new List<string>();
            foreach ((string name, Func<IAggregator> create) in Strategies)
            {
                double accuracy = await AccuracyAsync(create, attack == "none" ? null : attack, test);
                results[(attack, name)] = accuracy;
                row.Add(accuracy.ToString("F3", System.Globalization.CultureInfo.InvariantCulture));
            }

            table.Add($"| {attack} | {string.Join(" | ", row)} |");
        }

        TestContext.Out.WriteLine($"clean FedAvg accuracy {clean:F3}");
        TestContext.Out.WriteLine(string.Join(Environment.NewLine, table));
        Assert.Multiple(() =>
        {
            Assert.That(results[("sign flip x10", "FedAvg")], Is.LessThan(clean - 0.10), "the attack is real: FedAvg breaks");
            foreach (string attack in new[] { "sign flip x10", "Gaussian noise (sigma 1)", "a little is enough (colluding)", "label flip" })
            {
                foreach (string strategy in new[] { "Krum", "MultiKrum", "FedMedian", "FedTrimmedAvg", "Bulyan" })
                {
                    Assert.That(results[(attack, strategy)], Is.GreaterThanOrEqualTo(clean - 0.03), $"{strategy} under {attack}");
                }
            }
        });
    }

    private static async Task<double> AccuracyAsync(Func<IAggregator> strategy, string? attack, TorchDataSet test)
    {
        var clients = new List<IClient>();
        var coalition = new AlieCoalition(Attackers, Clients);
        for (int i = 0; i < Clients; i++)
        {
            bool attacker = attack is not null && i < Attackers;
            TorchTrainerClient honest = SyntheticHeartData.Client(i, flipLabels: attacker && attack == "label flip");
            clients.Add(!attacker || attack == "label flip" ? honest : attack!.StartsWith("a little", StringComparison.Ordinal) ? coalition.Recruit(honest) : new ByzantineClient(honest, attack switch
            {
                "sign flip x10" => ByzantineAttack.SignFlip,
                "Gaussian noise (sigma 1)" => ByzantineAttack.GaussianNoise,
                _ => ByzantineAttack.SmallShift,
            }, attack!.StartsWith("small", StringComparison.Ordinal) ? 1.5 : 1.0, (ulong)i));
        }

        await using var transport = new InMemoryTransport(new InMemoryTransportOptions
        {
            // The colluding attackers meet at a barrier, so the whole round must run at once.
            MaxConcurrency = attack?.StartsWith("a little", StringComparison.Ordinal) == true ? Clients : 4,
        });
        for (int i = 0; i < Clients; i++)
        {
            transport.AddClient($"c{i:D2}", clients[i]);
        }

        using TorchTrainerClient evaluator = SyntheticHeartData.Client(99);
        using ModelParameters initial = ModelParameters.Create(evaluator.Layout);
        try
        {
            using FederationResult result = await new FederatedServerBuilder().UseTransport(transport).UseAggregator(strategy()).WithInitialParameters(initial)
                .Configure(o =>
                {
                    o.Rounds = 20;
                    o.MinAvailableClients = Clients;
                    o.FractionEvaluate = 0;
                    o.Seed = 1;
                })
                .Build().RunAsync().WaitAsync(TimeSpan.FromMinutes(2));
            return evaluator.Evaluate(result.Parameters, test).Metrics.GetDouble("accuracy", 0);
        }
        finally
        {
            foreach (IClient c in clients)
            {
                (c as IDisposable)?.Dispose();
            }
        }
    }
}
