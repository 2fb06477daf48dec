using Digits;
using FederatedSharp;
using FederatedSharp.Simulation;
using FederatedSharp.TorchSharp.Training;
using HeartDisease;
using TorchSharp;
using static TorchSharp.torch;

namespace Personalization;

/// <summary>One site's data: its own train and test split.</summary>
public sealed record Site(float[] TrainX, long[] TrainY, float[] TestX, long[] TestY);

/// <summary>A benchmark setting: the sites, the model (with a normalisation layer, so FedBN has something to keep), the head's name and the training settings.</summary>
public sealed record Setting(string Name, IReadOnlyList<Site> Sites, long[] FeatureShape, Func<nn.Module<Tensor, Tensor>> Model, bool Binary, int Rounds, int LocalSteps, int BatchSize, double LearningRate);

public static class Settings
{
    private static nn.Module<Tensor, Tensor> DigitsCnn() => nn.Sequential(
        ("conv1", nn.Conv2d(1, 16, 3, padding: 1)), ("bn1", nn.BatchNorm2d(16)), ("relu1", nn.ReLU()), ("pool1", nn.MaxPool2d(2)),
        ("conv2", nn.Conv2d(16, 32, 3, padding: 1)), ("bn2", nn.BatchNorm2d(32)), ("relu2", nn.ReLU()), ("pool2", nn.MaxPool2d(2)),
        ("flatten", nn.Flatten()), ("head", nn.Linear(32 * 2 * 2, 10)));

    private static nn.Module<Tensor, Tensor> HeartMlp() => nn.Sequential(
        ("body", nn.Linear(HeartDiseaseData.FeatureCount, 16)), ("bn", nn.BatchNorm1d(16)), ("relu", nn.ReLU()), ("head", nn.Linear(16, 1)), ("sigmoid", nn.Sigmoid()));

    /// <summary>Digits, 20 clients, label skew by Dirichlet(alpha): each client's rows split 80/20 into its own train and test sets.</summary>
    public static Setting DigitsLabelSkew(ulong seed, double alpha = 0.1)
    {
        DigitsFederation.DataSplit data = DigitsFederation.Load(seed);
        float[] x = data.TrainX.Concat(data.TestX).ToArray();
        long[] y = data.TrainY.Concat(data.TestY).ToArray();
        IReadOnlyList<int[]> partition = DirichletPartitioner.Partition(y.Select(l => (int)l).ToArray(), 20, alpha, seed, minPartitionSize: 20);
        var sites = partition.Select((rows, i) => Split(rows, x, y, 64, seed + (ulong)i, v => v)).ToArray();
        return new Setting($"Digits, 20 clients, label skew Dirichlet({alpha})", sites, new long[] { 1, 8, 8 }, DigitsCnn, false, 30, 20, 16, 0.05);
    }

    /// <summary>Digits, 20 clients with IID labels, each with its own fixed rotation (0-75 degrees) and contrast (0.4-1.6).</summary>
    public static Setting DigitsFeatureSkew(ulong seed)
    {
        DigitsFederation.DataSplit data = DigitsFederation.Load(seed);
        float[] x = data.TrainX.Concat(data.TestX).ToArray();
        long[] y = data.TrainY.Concat(data.TestY).ToArray();
        IReadOnlyList<int[]> partition = IidPartitioner.Partition(y.Length, 20, seed);
        var sites = partition.Select((rows, i) =>
        {
            double angle = i % 6 * 15 * Math.PI / 180;
            double contrast = 0.4 + (1.2 * (i / 6.0 % 1));
            return Split(rows, x, y, 64, seed + (ulong)i, image => Transform(image, angle, contrast));
        }).ToArray();
        return new Setting("Digits, 20 clients, feature skew (rotation and contrast per client)", sites, new long[] { 1, 8, 8 }, DigitsCnn, false, 30, 20, 16, 0.05);
    }

    /// <summary>Fed-Heart-Disease: the four hospitals with FLamby's train/test split.</summary>
    public static Setting HeartDisease(ulong seed)
    {
        HeartDiseaseDataSet data = HeartDiseaseData.Load();
        var sites = data.Centres.Select(c => new Site(c.TrainFeatures, c.TrainLabels.Select(l => (long)l).ToArray(), c.TestFeatures, c.TestLabels.Select(l => (long)l).ToArray())).ToArray();
        return new Setting("Fed-Heart-Disease, 4 hospitals", sites, new long[] { HeartDiseaseData.FeatureCount }, HeartMlp, true, 15, 50, 4, 0.01);
    }

    private static Site Split(int[] rows, float[] x, long[] y, int width, ulong seed, Func<float[], float[]> transform)
    {
        int[] order = rows.ToArray();
        new DeterministicRandom(seed).ShuffleInPlace(order.AsSpan());
        int train = Math.Max(1, order.Length * 4 / 5);
        float[] Features(IEnumerable<int> r) => r.SelectMany(i => transform(x.AsSpan(i * width, width).ToArray())).ToArray();
        return new Site(Features(order[..train]), order[..train].Select(i => y[i]).ToArray(), Features(order[train..]), order[train..].Select(i => y[i]).ToArray());
    }

    // Rotates an 8x8 image about its centre (bilinear sampling, zero outside) and scales its contrast around 0.5.
    private static float[] Transform(float[] image, double angle, double contrast)
    {
        var result = new float[64];
        double cos = Math.Cos(angle), sin = Math.Sin(angle);
        for (int r = 0; r < 8; r++)
        {
            for (int c = 0; c < 8; c++)
            {
                double u = ((c - 3.5) * cos) + ((r - 3.5) * sin) + 3.5;
                double v = (-(c - 3.5) * sin) + ((r - 3.5) * cos) + 3.5;
                int u0 = (int)Math.Floor(u), v0 = (int)Math.Floor(v);
                double fu = u - u0, fv = v - v0, value = 0;
                for (int dv = 0; dv <= 1; dv++)
                {
                    for (int du = 0; du <= 1; du++)
                    {
                        int uu = u0 + du, vv = v0 + dv;
                        if (uu is >= 0 and < 8 && vv is >= 0 and < 8)
                        {
                            value += image[(vv * 8) + uu] * (du == 1 ? fu : 1 - fu) * (dv == 1 ? fv : 1 - fv);
                        }
                    }
                }

                result[(r * 8) + c] = (float)Math.Clamp(0.5 + (contrast * (value - 0.5)), 0, 1);
            }
        }

        return result;
    }
}
