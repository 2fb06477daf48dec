using FederatedSharp.Aggregation.Kernels;
using FederatedSharp.Tests.TestUtilities;

namespace FederatedSharp.Tests.Aggregation.Kernels;

// Category "Kernels" is run a second time by .ci/run with DOTNET_EnableAVX512=0 and with DOTNET_EnableHWIntrinsic=0,
// so the 256-bit, 128-bit and scalar paths of TensorPrimitives are all checked on this machine.
[Category("Kernels")]
public class AggregationKernelsTests
{
    public static IEnumerable<int> Lengths() =>
        Enumerable.Range(0, 257).Concat(new[] { 1023, 4099, AggregationKernels.ParallelThreshold - 1, AggregationKernels.ParallelThreshold + 17, (3 * AggregationKernels.ParallelThreshold) + 5 });

    [TestCaseSource(nameof(Lengths))]
    public void MultiplyAdd_RandomData_MatchesDoubleReference(int length)
    {
        var random = new DeterministicRandom((ulong)length);
        float[] x = TestModels.RandomArray(length, random, 10);
        float[] acc = TestModels.RandomArray(length, random, 10);
        float weight = (float)(random.NextDouble() * 100);
        double[] expected = acc.Select((a, i) => a + ((double)weight * x[i])).ToArray();

        AggregationKernels.MultiplyAdd(x, weight, acc);

        for (int i = 0; i < length; i++)
        {
            Assert.That(acc[i], Is.EqualTo(expected[i]).Within(1e-5 * (1 + Math.Abs(expected[i]))), $"element {i} of {length}");
        }
    }

    [TestCaseSource(nameof(Lengths))]
    public void Scale_InPlace_MatchesDoubleReference(int length)
    {
        var random = new DeterministicRandom((ulong)length + 1000);
        float[] x = TestModels.RandomArray(length, random, 1000);
        double[] expected = x.Select(v => v * 0.125).ToArray();
        AggregationKernels.Scale(x, 0.125f, x);
        for (int i = 0; i < length; i++)
        {
            Assert.That(x[i], Is.EqualTo(expected[i]).Within(1e-6 * (1 + Math.Abs(expected[i]))));
        }
    }

    private static IEnumerable<TestCaseData> InputCountsAndLengths() =>
        from count in new[] { 7, 8, 13, 19 }
        from length in Lengths()
        select new TestCaseData(count, length);

    // Groups of eight (512-bit), four and single inputs per pass, with and without a whole-vector tail.
    [TestCaseSource(nameof(InputCountsAndLengths))]
    public void WeightedSum_ManyInputs_BitIdenticalToRepeatedMultiplyAddAndNearDoubleReference(int count, int length)
    {
        var random = new DeterministicRandom((ulong)length + 77 + ((ulong)count << 32));
        float[][] inputs = Enumerable.Range(0, count).Select(_ => TestModels.RandomArray(length, random, 3)).ToArray();
        float[] weights = Enumerable.Range(0, count).Select(_ => (float)random.Next(1, 300)).ToArray();
        float[] blocked = new float[length];
        float[] sequential = new float[length];
        AggregationKernels.WeightedSum(inputs.Select(i => (ReadOnlyMemory<float>)i).ToArray(), weights, blocked);
        for (int k = 0; k < count; k++)
        {
            AggregationKernels.MultiplyAdd(inputs[k], weights[k], sequential);
        }

        Assert.That(blocked, Is.EqualTo(sequential), "cache blocking does not change the floating-point order");
        for (int i = 0; i < length; i++)
        {
            double expected = Enumerable.Range(0, count).Sum(k => (double)weights[k] * inputs[k][i]);
            double magnitude = Enumerable.Range(0, count).Sum(k => Math.Abs((double)weights[k] * inputs[k][i]));
            Assert.That(blocked[i], Is.EqualTo(expected).Within(1e-6 * count * (1 + magnitude)), "float rounding grows with the terms' size, not the sum's");
        }
    }

    private static IEnumerable<TestCaseData> GroupCountsAndLengths() =>
        (from count in Enumerable.Range(1, 20)
         from length in new[] { 0, 1, 5, 15, 16, 17, 31, 33, 64, 100, 4099, AggregationKernels.ParallelThreshold + 17 }
         select new TestCaseData(count, length))
        .Concat( // sums long enough for non-temporal stores (unaligned heads and tails in every block)
            from count in new[] { 1, 3, 8, 9, 13 }
            select new TestCaseData(count, AggregationKernels.NonTemporalThreshold + 21));

    // Every group size from 1 to 8 as the first group (no read of the accumulator) and the last (scaled before the store).
    [TestCaseSource(nameof(GroupCountsAndLengths))]
    public void WeightedSum_OverwriteAndScale_BitIdenticalToMultiplyThenMultiplyAddsThenScale(int count, int length)
    {
        var random = new DeterministicRandom((ulong)length + 991 + ((ulong)count << 32));
        float[][] inputs = Enumerable.Range(0, count).Select(_ => TestModels.RandomArray(length, random, 3)).ToArray();
        float[] weights = Enumerable.Range(0, count).Select(_ => (float)random.Next(1, 300)).ToArray();
        float scale = 1f / weights.Sum();
        float[] fused = TestModels.RandomArray(length, random, 1000);
        float[] steps = new float[length];
        for (int i = 0; i < length; i++)
        {
            steps[i] = inputs[0][i] * weights[0];
        }

        for (int k = 1; k < count; k++)
        {
            AggregationKernels.MultiplyAdd(inputs[k], weights[k], steps);
        }

        AggregationKernels.Scale(steps, scale, steps);

        AggregationKernels.WeightedSum(inputs.Select(i => (ReadOnlyMemory<float>)i).ToArray(), weights, fused, overwrite: true, scale);

        Assert.That(fused, Is.EqualTo(steps), "the accumulator's old values are ignored and the scale is applied once, after the last input");
    }

    [Test]
    public void WeightedSum_WeightCountDiffers_Throws()
    {
        Assert.Throws<ArgumentException>(() => AggregationKernels.WeightedSum(new ReadOnlyMemory<float>[] { new float[2] }, new float[2], new float[2]));
        Assert.Throws<ArgumentException>(() => AggregationKernels.WeightedSum(new ReadOnlyMemory<float>[] { new float[3] }, new float[1], new float[2]));
    }

    [Test]
    public void MultiplyAdd_MismatchedLengths_Throws()
    {
        Assert.Throws<ArgumentException>(() => AggregationKernels.MultiplyAdd(new float[3], 1, new float[4]));
        Assert.Throws<ArgumentException>(() => AggregationKernels.Scale(new float[3], 1, new float[2]));
    }

    [Test]
    public void MultiplyAdd_NaNInInput_PropagatesOnlyToItsElement()
    {
        float[] x = { 1, float.NaN, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17 };
        float[] acc = new float[x.Length];
        AggregationKernels.MultiplyAdd(x, 2, acc);
        Assert.Multiple(() =>
        {
            Assert.That(float.IsNaN(acc[1]), Is.True);
            Assert.That(acc.Where((_, i) => i != 1), Is.All.Not.NaN);
            Assert.That(acc[16], Is.EqualTo(34f));
        });
    }

    [TestCase(0, true, -1)]
    [TestCase(1, true, -1)]
    [TestCase(37, false, 36)]
    [TestCase(300, false, 5)]
    public void AllFinite_RandomLengths_FindsFirstBadValue(int length, bool finite, int bad)
    {
        float[] x = Enumerable.Range(0, length).Select(i => (float)i).ToArray();
        if (!finite)
        {
            x[bad] = float.PositiveInfinity;
            x[^1] = float.NaN;
        }

        bool result = AggregationKernels.AllFinite(x, out int index);
        Assert.That((result, index), Is.EqualTo((finite, bad)));
    }

    [Test]
    public void HardwareConfiguration_IsReported()
    {
        // Not an assertion on speed: records which vector width this run exercised (see the CI log).
        TestContext.Out.WriteLine($"Vector512 {System.Runtime.Intrinsics.Vector512.IsHardwareAccelerated}, Vector256 {System.Runtime.Intrinsics.Vector256.IsHardwareAccelerated}, Vector128 {System.Runtime.Intrinsics.Vector128.IsHardwareAccelerated}");
        Assert.That(Environment.GetEnvironmentVariable("DOTNET_EnableHWIntrinsic") != "0" || !System.Runtime.Intrinsics.Vector128.IsHardwareAccelerated, Is.True);
    }
}
