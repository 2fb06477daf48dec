using System.Numerics.Tensors;
using FederatedSharp.Aggregation;
using FederatedSharp.Aggregation.Kernels;
using FederatedSharp.Tests.TestUtilities;

namespace FederatedSharp.Tests.Aggregation.Kernels;

// Category "Kernels" is re-run by .ci/run with AVX-512 off and with hardware intrinsics off (the Vector<T> paths).
[Category("Kernels")]
public class ServerStepKernelsTests
{
    private static readonly AdaptiveHyperparameters Hyper = new(0.9f, 0.99f, 0.1f, 1e-3f);

    private static IEnumerable<TestCaseData> RulesAndLengths() =>
        from rule in new[] { "Adagrad", "Adam", "Yogi" }
        from length in Enumerable.Range(0, 70).Concat(new[] { 255, 1023, 4099 })
        select new TestCaseData(rule, length);

    [TestCaseSource(nameof(RulesAndLengths))]
    public void Adaptive_RandomBlock_BitIdenticalToTheStepWrittenOut(string ruleName, int length)
    {
        AdaptiveRule rule = Enum.Parse<AdaptiveRule>(ruleName);
        var random = new DeterministicRandom((ulong)length + (1000UL * (ulong)rule) + 5);
        float[] w = TestModels.RandomArray(length, random, 1);
        float[] mean = TestModels.RandomArray(length, random, 1);
        float[] m = TestModels.RandomArray(length, random, 0.1f);
        float[] v = TestModels.RandomArray(length, random, 0.01f).Select(MathF.Abs).ToArray();
        if (length > 3)
        {
            v[1] = 0;
            mean[2] = w[2]; // d = 0: Yogi's sign(v - d^2) at v = 0 is 0 where v is also 0
            v[2] = 0;
        }

        float[] expectedMean = (float[])mean.Clone(), expectedM = (float[])m.Clone(), expectedV = (float[])v.Clone();
        WrittenOut(rule, expectedMean, w, expectedM, expectedV);

        ServerStepKernels.Adaptive(rule, mean, w, m, v, Hyper);

        Assert.That(m, Is.EqualTo(expectedM), "first moment");
        Assert.That(v, Is.EqualTo(expectedV), "second moment");
        Assert.That(mean, Is.EqualTo(expectedMean), "new model");
    }

    [TestCase(0, false)]
    [TestCase(0, true)]
    [TestCase(1, false)]
    [TestCase(1, true)]
    [TestCase(17, false)]
    [TestCase(17, true)]
    [TestCase(4099, false)]
    [TestCase(4099, true)]
    public void Momentum_RandomBlock_BitIdenticalToTheStepWrittenOut(int length, bool first)
    {
        var random = new DeterministicRandom((ulong)length + 77);
        float[] w = TestModels.RandomArray(length, random, 1);
        float[] mean = TestModels.RandomArray(length, random, 1);
        float[] u = TestModels.RandomArray(length, random, 0.1f);
        float[] plain = (float[])mean.Clone();
        float[] expected = (float[])mean.Clone(), expectedU = (float[])u.Clone(), expectedPlain = (float[])mean.Clone();
        TensorPrimitives.Subtract(w, expected, expected);
        if (first)
        {
            expected.CopyTo(expectedU, 0);
        }
        else
        {
            TensorPrimitives.MultiplyAdd(expectedU, 0.9f, expected, expectedU);
        }

        expectedU.CopyTo(expected, 0);
        TensorPrimitives.MultiplyAdd(expected, -0.5f, w, expected);
        TensorPrimitives.Subtract(w, expectedPlain, expectedPlain);
        TensorPrimitives.MultiplyAdd(expectedPlain, -0.5f, w, expectedPlain);

        ServerStepKernels.Momentum(mean, w, u, first, 0.9f, 0.5f);
        ServerStepKernels.Momentum(plain, w, Span<float>.Empty, first, 0.9f, 0.5f);

        Assert.That(u, Is.EqualTo(expectedU), "momentum");
        Assert.That(mean, Is.EqualTo(expected), "new model with momentum");
        Assert.That(plain, Is.EqualTo(expectedPlain), "new model without momentum");
    }

    [Test]
    public void Adaptive_LengthsDiffer_ThrowsNamingThem()
    {
        var error = Assert.Throws<ArgumentException>(() => ServerStepKernels.Adaptive(AdaptiveRule.Adam, new float[4], new float[4], new float[3], new float[4], Hyper));
        Assert.That(error!.Message, Does.Contain("moments 3 and 4"));
        Assert.Throws<ArgumentException>(() => ServerStepKernels.Momentum(new float[4], new float[4], new float[2], false, 0.9f, 1));
    }

    // The step as Flower writes it, one element-wise operation at a time.
    private static void WrittenOut(AdaptiveRule rule, float[] d, float[] w, float[] m, float[] v)
    {
        float[] t = new float[d.Length];
        TensorPrimitives.Subtract(d, w, d);
        TensorPrimitives.Multiply(m, Hyper.Beta1, m);
        TensorPrimitives.MultiplyAdd(d, 1 - Hyper.Beta1, m, m);
        TensorPrimitives.Multiply(d, d, t);
        switch (rule)
        {
            case AdaptiveRule.Adagrad:
                TensorPrimitives.Add(v, t, v);
                break;
            case AdaptiveRule.Adam:
                TensorPrimitives.Multiply(v, Hyper.Beta2, v);
                TensorPrimitives.MultiplyAdd(t, 1 - Hyper.Beta2, v, v);
                break;
            default:
                for (int i = 0; i < d.Length; i++)
                {
                    v[i] -= (1 - Hyper.Beta2) * t[i] * MathF.Sign(v[i] - t[i]);
                }

                break;
        }

        TensorPrimitives.Sqrt(v, t);
        TensorPrimitives.Add(t, Hyper.Tau, t);
        TensorPrimitives.Divide(m, t, t);
        TensorPrimitives.MultiplyAdd(t, Hyper.Eta, w, d);
    }
}
