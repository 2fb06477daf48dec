using FederatedSharp.TorchSharp.Training;

namespace FederatedSharp.TorchSharp.Tests.TestUtilities;

/// <summary>A linearly separable binary problem on two inputs in [-1, 1]: y = 1 when x0 + x1 &gt; shift.</summary>
public static class SyntheticBinaryData
{
    public static TorchDataSet Create(int n, ulong seed, float shift = 0)
    {
        var random = new DeterministicRandom(seed);
        float[] x = new float[n * 2];
        float[] y = new float[n];
        for (int i = 0; i < n; i++)
        {
            x[2 * i] = (float)((random.NextDouble() * 2) - 1);
            x[(2 * i) + 1] = (float)((random.NextDouble() * 2) - 1);
            y[i] = x[2 * i] + x[(2 * i) + 1] > shift ? 1 : 0;
        }

        return TorchDataSet.FromArrays(x, 2, y);
    }
}
