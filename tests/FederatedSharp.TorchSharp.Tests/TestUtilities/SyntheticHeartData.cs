using FederatedSharp.TorchSharp.Training;
using TorchSharp;

namespace FederatedSharp.TorchSharp.Tests.TestUtilities;

/// <summary>Heart-Disease-like data: 13 standardised features, a fixed logistic ground truth, per-client covariate shift.</summary>
public static class SyntheticHeartData
{
    public const int Features = 13;

    public static (float[] X, float[] Y) Generate(int n, ulong seed, double shift)
    {
        var truth = new DeterministicRandom(12345);
        double[] w = Enumerable.Range(0, Features).Select(_ => (truth.NextDouble() * 2) - 1).ToArray();
        var random = new DeterministicRandom(DeterministicRandom.Mix(seed, 77));
        float[] x = new float[n * Features];
        float[] y = new float[n];
        for (int i = 0; i < n; i++)
        {
            double z = 0;
            for (int f = 0; f < Features; f++)
            {
                double v = MathNet.Numerics.Distributions.Normal.Sample(random, f == 0 ? shift * 0.3 : 0, 1);
                x[(i * Features) + f] = (float)v;
                z += w[f] * v;
            }

            y[i] = random.NextDouble() < 1 / (1 + Math.Exp(-2 * z)) ? 1 : 0;
        }

        return (x, y);
    }

    public static TorchTrainerClient Client(int index, bool flipLabels = false)
    {
        (float[] x, float[] y) = Generate(40 + (index * 7 % 80), (ulong)index, shift: (index % 5) - 2);
        if (flipLabels)
        {
            y = y.Select(v => 1 - v).ToArray();
        }

        torch.random.manual_seed(index);
        return new TorchTrainerClient(new TorchTrainerOptions
        {
            Module = torch.nn.Sequential(("fc", torch.nn.Linear(Features, 1)), ("sigmoid", torch.nn.Sigmoid())),
            Train = TorchDataSet.FromArrays(x, Features, y),
            Loss = torch.nn.BCELoss().forward,
            LearningRate = 0.05,
            BatchSize = 8,
            LocalSteps = 20,
            Seed = (ulong)index,
            Metrics = { ["accuracy"] = TorchMetrics.BinaryAccuracy() },
        });
    }
}
