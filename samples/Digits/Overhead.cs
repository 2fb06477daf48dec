using System.Diagnostics;
using FederatedSharp;
using FederatedSharp.Aggregation;
using FederatedSharp.Parameters;
using FederatedSharp.Server;
using FederatedSharp.Simulation;
using FederatedSharp.Transport.InMemory;
using TorchSharp;
using static TorchSharp.torch;

namespace Digits;

/// <summary>
/// Framework overhead: the same local training (same clients, same steps, same batch size) once through a
/// FederatedSharp round (in-memory transport, one client at a time) and once as a plain TorchSharp loop with no
/// federation, in the same process, alternating, several times.
/// </summary>
public static class Overhead
{
    public static async Task<(double FederatedMs, double PlainMs)> MeasureAsync(DigitsOptions options, int repetitions)
    {
        torch.set_num_threads(1);
        DigitsFederation.DataSplit data = DigitsFederation.Load(options.Seed, options.DataDirectory);
        IReadOnlyList<int[]> partition = DirichletPartitioner.Partition(data.TrainY.Select(l => (int)l).ToArray(), options.Clients, options.Alpha, options.Seed, minPartitionSize: 10);
        var clients = partition.Select((indices, i) => DigitsFederation.CreateClient(data, indices, options, i)).ToList();
        using ModelParameters initial = new FederatedSharp.TorchSharp.TorchModelAdapter(DigitsFederation.CreateModel()).ToParameters();
        var federated = new List<double>();
        var plain = new List<double>();
        try
        {
            for (int r = 0; r < repetitions; r++)
            {
                await using var transport = new InMemoryTransport(new InMemoryTransportOptions { MaxConcurrency = 1 });
                for (int i = 0; i < clients.Count; i++)
                {
                    transport.AddClient(FederatedSimulation.ClientId(i), clients[i]);
                }

                FederatedServer server = new FederatedServerBuilder().UseTransport(transport).UseAggregator(new FedAvg()).WithInitialParameters(initial)
                    .Configure(o =>
                    {
                        o.Rounds = 1;
                        o.FractionFit = 1.0;
                        o.MinAvailableClients = options.Clients;
                        o.FractionEvaluate = 0;
                    }).Build();
                var watch = Stopwatch.StartNew();
                using (await server.RunAsync())
                {
                    federated.Add(watch.Elapsed.TotalMilliseconds);
                }

                watch.Restart();
                PlainRound(data, partition, options, initial);
                plain.Add(watch.Elapsed.TotalMilliseconds);
            }
        }
        finally
        {
            foreach (var c in clients)
            {
                c.Dispose();
            }
        }

        // Medians: the machine is shared and noisy.
        return (federated.Order().ElementAt(repetitions / 2), plain.Order().ElementAt(repetitions / 2));
    }

    private static readonly List<nn.Module<Tensor, Tensor>> Models = new();

    // The same work as one round: every client trains `LocalSteps` SGD steps from the initial model on its data.
    private static void PlainRound(DigitsFederation.DataSplit data, IReadOnlyList<int[]> partition, DigitsOptions options, ModelParameters initial)
    {
        var average = new float[initial.Length];
        for (int c = 0; c < partition.Count; c++)
        {
            using var scope = torch.NewDisposeScope();
            if (Models.Count <= c)
            {
                Models.Add(DigitsFederation.CreateModel());
            }

            var model = Models[c];
            var adapter = new FederatedSharp.TorchSharp.TorchModelAdapter(model);
            adapter.CopyFrom(initial);
            int[] indices = partition[c];
            Tensor x = torch.tensor(indices.SelectMany(i => data.TrainX.AsSpan(i * 64, 64).ToArray()).ToArray(), new long[] { indices.Length, 1, 8, 8 });
            Tensor y = torch.tensor(indices.Select(i => data.TrainY[i]).ToArray());
            var optimizer = optim.SGD(model.parameters(), options.LearningRate);
            var loss = nn.CrossEntropyLoss();
            var random = new DeterministicRandom((ulong)c);
            model.train();
            for (int step = 0; step < options.LocalSteps; step++)
            {
                using var stepScope = torch.NewDisposeScope();
                long[] batch = Enumerable.Range(0, options.BatchSize).Select(_ => (long)random.Next(indices.Length)).ToArray();
                Tensor index = torch.tensor(batch);
                optimizer.zero_grad();
                loss.forward(model.forward(x.index_select(0, index)), y.index_select(0, index)).backward();
                optimizer.step();
            }

            using ModelParameters trained = adapter.ToParameters();
            System.Numerics.Tensors.TensorPrimitives.MultiplyAdd(trained.Values, (float)indices.Length, average, average);
        }
    }
}
