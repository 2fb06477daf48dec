using FederatedSharp.Aggregation.Kernels;
using FederatedSharp.Tests.TestUtilities;

namespace FederatedSharp.Tests.Aggregation.Kernels;

// Category "Kernels" runs again in .ci/run with AVX-512 off and with hardware intrinsics off, so every vector path is
// checked against the same scalar reference.
[Category("Kernels")]
public class OrderStatisticsTests
{
    private static readonly int[] Counts = Enumerable.Range(1, 64).ToArray();

    [TestCaseSource(nameof(Counts))]
    public void Median_EveryLengthUpTo256_BitIdenticalToScalarReference(int n)
    {
        foreach (int length in Enumerable.Range(0, 257))
        {
            float[][] inputs = Inputs(n, length, seed: (ulong)((n * 1000) + length));
            float[] actual = new float[length];
            OrderStatistics.Median(AsMemory(inputs), actual);
            AssertBitIdentical(actual, Reference(inputs, ScalarMedian), $"median of {n} at length {length}");
        }
    }

    [TestCaseSource(nameof(Counts))]
    public void TrimmedMean_EveryLengthUpTo256_BitIdenticalToScalarReference(int n)
    {
        int cut = (n - 1) / 4;
        foreach (int length in Enumerable.Range(0, 257))
        {
            float[][] inputs = Inputs(n, length, seed: (ulong)((n * 1000) + length + 7));
            float[] actual = new float[length];
            OrderStatistics.TrimmedMean(AsMemory(inputs), cut, actual);
            AssertBitIdentical(actual, Reference(inputs, sorted => ScalarTrimmedMean(sorted, cut)), $"trimmed mean of {n} (cut {cut}) at length {length}");
        }
    }

    [TestCaseSource(nameof(Counts))]
    public void ClosestToMedianMean_EveryLengthUpTo256_BitIdenticalToScalarReference(int n)
    {
        int beta = Math.Max(1, n - (2 * ((n - 1) / 4)));
        foreach (int length in Enumerable.Range(0, 257))
        {
            float[][] inputs = Inputs(n, length, seed: (ulong)((n * 1000) + length + 13));
            float[] actual = new float[length];
            OrderStatistics.ClosestToMedianMean(AsMemory(inputs), beta, actual);
            AssertBitIdentical(actual, Reference(inputs, sorted => ScalarClosestToMedianMean(sorted, beta)), $"closest-{beta} mean of {n} at length {length}");
        }
    }

    [TestCase(11, 200_003)]
    [TestCase(25, 100_007)]
    [TestCase(100, 5_003)]
    public void Statistics_LargeLengthsOnAllCores_BitIdenticalToScalarReference(int n, int length)
    {
        float[][] inputs = Inputs(n, length, seed: (ulong)n);
        int cut = n / 5;
        var median = new float[length];
        var trimmed = new float[length];
        var closest = new float[length];
        OrderStatistics.Median(AsMemory(inputs), median);
        OrderStatistics.TrimmedMean(AsMemory(inputs), cut, trimmed);
        OrderStatistics.ClosestToMedianMean(AsMemory(inputs), n - (2 * cut), closest);
        AssertBitIdentical(median, Reference(inputs, ScalarMedian), "median");
        AssertBitIdentical(trimmed, Reference(inputs, sorted => ScalarTrimmedMean(sorted, cut)), "trimmed mean");
        AssertBitIdentical(closest, Reference(inputs, sorted => ScalarClosestToMedianMean(sorted, n - (2 * cut))), "closest to median");
    }

    [Test]
    public void Median_InputsLongerThanDestinationAndSlices_ReadsOnlyTheCoordinatesAsked()
    {
        float[][] inputs = Inputs(5, 40, seed: 3);
        ReadOnlyMemory<float>[] slices = inputs.Select(a => new ReadOnlyMemory<float>(a, 3, 30)).ToArray();
        var actual = new float[20];
        OrderStatistics.Median(slices, actual);
        AssertBitIdentical(actual, Reference(inputs.Select(a => a[3..23]).ToArray(), ScalarMedian), "median of slices");
    }

    [Test]
    public void Median_SignedZerosAndTies_SortsMinusZeroBelowPlusZero()
    {
        // Three -0 and two +0: the median (rank 2) is -0 in IEEE total order, whichever input holds what.
        float[][] inputs = { new[] { 0f }, new[] { -0f }, new[] { 0f }, new[] { -0f }, new[] { -0f } };
        var actual = new float[1];
        OrderStatistics.Median(AsMemory(inputs), actual);
        Assert.That(float.IsNegative(actual[0]), Is.True, "-0 is the median");
    }

    [Test]
    public void TrimmedMean_CutLeavesNothing_ThrowsNamingTheCut()
    {
        float[][] inputs = Inputs(4, 8, seed: 1);
        Assert.That(() => OrderStatistics.TrimmedMean(AsMemory(inputs), 2, new float[8]),
            Throws.TypeOf<ArgumentOutOfRangeException>().With.Message.Contains("Trimming 2 values at each end of 4"));
    }

    [Test]
    public void Median_InputShorterThanDestination_ThrowsNamingTheInput()
    {
        float[][] inputs = { new float[8], new float[7] };
        Assert.That(() => OrderStatistics.Median(AsMemory(inputs), new float[8]),
            Throws.ArgumentException.With.Message.Contains("Input 1 has 7 values"));
    }

    private static ReadOnlyMemory<float>[] AsMemory(float[][] inputs) => inputs.Select(a => (ReadOnlyMemory<float>)a).ToArray();

    /// <summary>Random values with repeats, zeros of both signs and a wide range of magnitudes.</summary>
    private static float[][] Inputs(int n, int length, ulong seed)
    {
        var random = new DeterministicRandom(seed);
        var inputs = new float[n][];
        for (int k = 0; k < n; k++)
        {
            inputs[k] = new float[length];
            for (int p = 0; p < length; p++)
            {
                double u = random.NextDouble();
                inputs[k][p] = u switch
                {
                    < 0.05 => 0f,
                    < 0.10 => -0f,
                    < 0.20 => (float)Math.Round((random.NextDouble() * 6) - 3),
                    _ => (float)(((random.NextDouble() * 2) - 1) * Math.Pow(10, (random.NextDouble() * 8) - 4)),
                };
            }
        }

        return inputs;
    }

    private static float[] Reference(float[][] inputs, Func<float[], float> statistic)
    {
        int length = inputs[0].Length;
        var result = new float[length];
        for (int p = 0; p < length; p++)
        {
            float[] column = inputs.Select(x => x[p]).ToArray();
            Array.Sort(column, TotalOrder);
            result[p] = statistic(column);
        }

        return result;
    }

    /// <summary>IEEE 754 total order on non-NaN values: -0 before +0.</summary>
    private static int TotalOrder(float a, float b) => a < b ? -1 : a > b ? 1 : float.IsNegative(a).CompareTo(float.IsNegative(b)) * -1;

    private static float ScalarMedian(float[] sorted) => sorted.Length % 2 == 1
        ? sorted[sorted.Length / 2]
        : (float)((sorted[(sorted.Length / 2) - 1] + (double)sorted[sorted.Length / 2]) / 2);

    private static float ScalarTrimmedMean(float[] sorted, int cut)
    {
        double sum = 0;
        for (int r = cut; r < sorted.Length - cut; r++)
        {
            sum += sorted[r];
        }

        return (float)(sum / (sorted.Length - (2 * cut)));
    }

    /// <summary>Shrinks the sorted values to <paramref name="beta"/> by dropping whichever end is strictly farther from the median (the upper end on a tie), then averages in ascending order.</summary>
    private static float ScalarClosestToMedianMean(float[] sorted, int beta)
    {
        float median = ScalarMedian(sorted);
        int low = 0;
        int high = sorted.Length - 1;
        while (high - low + 1 > beta)
        {
            if (Math.Abs(sorted[low] - median) > Math.Abs(sorted[high] - median))
            {
                low++;
            }
            else
            {
                high--;
            }
        }

        double sum = 0;
        for (int r = low; r <= high; r++)
        {
            sum += sorted[r];
        }

        return (float)(sum / beta);
    }

    private static void AssertBitIdentical(float[] actual, float[] expected, string what)
    {
        for (int p = 0; p < expected.Length; p++)
        {
            if (BitConverter.SingleToInt32Bits(actual[p]) != BitConverter.SingleToInt32Bits(expected[p]))
            {
                Assert.Fail($"{what}: coordinate {p} is {actual[p]:R} (bits {BitConverter.SingleToInt32Bits(actual[p]):X8}), the scalar reference {expected[p]:R} (bits {BitConverter.SingleToInt32Bits(expected[p]):X8})");
            }
        }
    }
}
