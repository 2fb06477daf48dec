using FederatedSharp.Aggregation.Kernels;
using FederatedSharp.Tests.TestUtilities;

namespace FederatedSharp.Tests.Aggregation.Kernels;

// Category "Kernels" runs again in .ci/run with AVX-512 off and with hardware intrinsics off.
[Category("Kernels")]
public class RobustKernelsTests
{
    [TestCase(2, 0)]
    [TestCase(2, 1)]
    [TestCase(3, 7)]
    [TestCase(4, 50)]
    [TestCase(5, 17)]
    [TestCase(6, 100)]
    [TestCase(7, 1000)]
    [TestCase(8, 15)]
    [TestCase(9, 33)]
    [TestCase(11, 257)]
    [TestCase(25, 4099)]
    [TestCase(25, 100_003)]
    [TestCase(64, 20_001)]
    public void PairwiseSquaredDistances_RandomInputs_MatchDoubleReference(int n, int length)
    {
        var random = new DeterministicRandom((ulong)((n * 31) + length));
        float[][] inputs = Enumerable.Range(0, n).Select(_ => TestModels.RandomArray(length, random, 2)).ToArray();

        double[,] actual = RobustKernels.PairwiseSquaredDistances(inputs.Select(a => (ReadOnlyMemory<float>)a).ToArray(), length);

        for (int i = 0; i < n; i++)
        {
            Assert.That(actual[i, i], Is.Zero, $"d({i},{i})");
            for (int j = 0; j < n; j++)
            {
                double expected = Reference(inputs[i], inputs[j]);
                Assert.That(actual[i, j], Is.EqualTo(expected).Within(1e-5 * Math.Max(expected, 1e-3)), $"d({i},{j})");
            }
        }
    }

    // Every shape of the last group (n mod 4), every fetch count (n = 2 to 13 share 1 to 9 tiles), odd and even numbers of
    // vector steps in a sub-block (the triangles and lone columns take two at a time), sub-blocks cut short, several blocks.
    [Test]
    public void PairwiseSquaredDistances_EveryGroupShapeAndStepCount_MatchDoubleReference(
        [Range(2, 13)] int n,
        [Values(1, 16, 31, 48, 81, 2_616, 12_011)] int length)
    {
        var random = new DeterministicRandom((ulong)((n * 1009) + length));
        float[][] inputs = Enumerable.Range(0, n).Select(_ => TestModels.RandomArray(length, random, 2)).ToArray();

        double[,] actual = RobustKernels.PairwiseSquaredDistances(inputs.Select(a => (ReadOnlyMemory<float>)a).ToArray(), length);

        for (int i = 0; i < n; i++)
        {
            for (int j = i + 1; j < n; j++)
            {
                double expected = Reference(inputs[i], inputs[j]);
                Assert.That(actual[i, j], Is.EqualTo(expected).Within(1e-5 * Math.Max(expected, 1e-3)), $"d({i},{j})");
                Assert.That(actual[j, i], Is.EqualTo(actual[i, j]), $"d({j},{i})");
            }
        }
    }

    // Inputs that are slices of larger buffers at odd offsets (pinned by the kernel, read unaligned), over several blocks.
    [TestCase(6)]
    [TestCase(13)]
    [TestCase(18)]
    public void PairwiseSquaredDistances_SlicesAtOddOffsets_MatchDoubleReference(int n)
    {
        const int length = 40_003;
        var random = new DeterministicRandom((ulong)n + 4242);
        float[][] buffers = Enumerable.Range(0, n).Select(_ => TestModels.RandomArray(length + 1 + (3 * n), random, 2)).ToArray();
        ReadOnlyMemory<float>[] inputs = buffers.Select((b, i) => (ReadOnlyMemory<float>)b.AsMemory(1 + (3 * i), length)).ToArray();

        double[,] actual = RobustKernels.PairwiseSquaredDistances(inputs, length);

        for (int i = 0; i < n; i++)
        {
            for (int j = i + 1; j < n; j++)
            {
                double expected = Reference(inputs[i].ToArray(), inputs[j].ToArray());
                Assert.That(actual[i, j], Is.EqualTo(expected).Within(1e-5 * expected), $"d({i},{j})");
            }
        }
    }

    [Test]
    public void SquaredDistances_EveryLengthUpTo70_MatchDoubleReference()
    {
        for (int length = 0; length <= 70; length++)
        {
            var random = new DeterministicRandom((ulong)length + 500);
            float[][] v = Enumerable.Range(0, 5).Select(_ => TestModels.RandomArray(length, random, 3)).ToArray();
            double single = RobustKernels.SquaredDistance(v[0], v[1]);
            Assert.That(single, Is.EqualTo(Reference(v[0], v[1])).Within(1e-5 * Math.Max(1, single)), $"length {length}, one pair");
            var sums = new double[] { 1, 2, 3, 4 };
            RobustKernels.SquaredDistancesFour(v[0], v[1], v[2], v[3], v[4], sums);
            for (int k = 0; k < 4; k++)
            {
                double expected = k + 1 + Reference(v[0], v[k + 1]);
                Assert.That(sums[k], Is.EqualTo(expected).Within(1e-5 * expected), $"length {length}, pair {k}: added to what was there");
            }
        }
    }

    [Test]
    public void PairwiseSquaredDistances_TightClusterAndFarOutlier_KeepsTheClusterDistances()
    {
        // The case that rules out a Gram matrix (squared norms subtracted): a Byzantine update 1,000 times farther out than the honest spread.
        const int length = 50_000;
        var random = new DeterministicRandom(5);
        float[] centre = TestModels.RandomArray(length, random, 1);
        float[][] inputs = new float[6][];
        inputs[0] = centre.Select(v => v + 1000f).ToArray();
        for (int k = 1; k < inputs.Length; k++)
        {
            inputs[k] = centre.Zip(TestModels.RandomArray(length, random, 0.01f), (c, e) => c + e).ToArray();
        }

        double[,] actual = RobustKernels.PairwiseSquaredDistances(inputs.Select(a => (ReadOnlyMemory<float>)a).ToArray(), length);

        for (int i = 1; i < inputs.Length; i++)
        {
            for (int j = i + 1; j < inputs.Length; j++)
            {
                double expected = Reference(inputs[i], inputs[j]);
                Assert.That(actual[i, j], Is.EqualTo(expected).Within(0.02 * expected), $"honest pair ({i},{j}) within 2%");
            }
        }
    }

    [Test]
    public void PairwiseSquaredDistances_SameInputsOnAnyThreadCount_SameBits()
    {
        var random = new DeterministicRandom(9);
        ReadOnlyMemory<float>[] inputs = Enumerable.Range(0, 9).Select(_ => (ReadOnlyMemory<float>)TestModels.RandomArray(300_001, random, 1)).ToArray();
        double[,] first = RobustKernels.PairwiseSquaredDistances(inputs, 300_001);
        double[,] second = RobustKernels.PairwiseSquaredDistances(inputs, 300_001);
        Assert.That(second, Is.EqualTo(first), "chunks are summed in a fixed order");
    }

    [Test]
    public void PairwiseSquaredDistances_InputShorterThanLength_ThrowsNamingTheLengths()
    {
        ReadOnlyMemory<float>[] inputs = { new float[10], new float[9] };
        Assert.That(() => RobustKernels.PairwiseSquaredDistances(inputs, 10), Throws.ArgumentException.With.Message.Contains("9 values, fewer than the 10"));
    }

    private static double Reference(float[] a, float[] b)
    {
        double sum = 0;
        for (int p = 0; p < a.Length; p++)
        {
            double d = (double)a[p] - b[p];
            sum += d * d;
        }

        return sum;
    }
}
