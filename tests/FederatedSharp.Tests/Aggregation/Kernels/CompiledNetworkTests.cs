using System.Numerics;
using System.Runtime.Intrinsics;
using FederatedSharp.Aggregation.Kernels;

namespace FederatedSharp.Tests.Aggregation.Kernels;

[Category("Kernels")]
public class CompiledNetworkTests
{
    [Test]
    public void For_VectorKeys_EverySizeUpTo16_SortsEveryZeroOneInputInEveryLane()
    {
        Assume.That(CompiledNetwork.IsSupported, "this runtime compiles dynamic code");
        AssertSortsEveryZeroOneInput<Vector<int>>(Vector<int>.Count);
    }

    [Test]
    public void For_512BitKeys_EverySizeUpTo16_SortsEveryZeroOneInputInEveryLane()
    {
        Assume.That(CompiledNetwork.IsSupported, "this runtime compiles dynamic code");
        if (!Vector512.IsHardwareAccelerated)
        {
            Assert.Ignore("512-bit vectors are not accelerated here; the Vector<T> test covers the compiler.");
        }

        AssertSortsEveryZeroOneInput<Vector512<int>>(Vector512<int>.Count);
    }

    [TestCase(11, 5, 5)]
    [TestCase(25, 5, 19)]
    [TestCase(32, 15, 16)]
    public void For_PrunedToRanks_StoresThoseRanksAndLeavesTheOtherWires(int n, int first, int last)
    {
        Assume.That(CompiledNetwork.IsSupported, "this runtime compiles dynamic code");
        CompiledNetwork.SortKeys sort = CompiledNetwork.For<Vector<int>>(SortingNetwork.For(n, first, last), first, last);
        int count = Vector<int>.Count;
        var random = new Random(n);
        var keys = new int[n * count];
        for (int trial = 0; trial < 200; trial++)
        {
            for (int i = 0; i < keys.Length; i++)
            {
                keys[i] = random.Next(3) == 0 ? random.Next(-3, 3) : random.Next(int.MinValue, int.MaxValue);
            }

            int[] before = (int[])keys.Clone();
            sort(ref keys[0]);
            for (int lane = 0; lane < count; lane++)
            {
                int[] sorted = Enumerable.Range(0, n).Select(w => before[(w * count) + lane]).Order().ToArray();
                for (int w = 0; w < n; w++)
                {
                    int expected = w >= first && w <= last ? sorted[w] : before[(w * count) + lane];
                    Assert.That(keys[(w * count) + lane], Is.EqualTo(expected), $"trial {trial}, lane {lane}, wire {w}");
                }
            }
        }
    }

    [Test]
    public void For_SameNetworkTwice_ReturnsTheCompiledDelegate()
    {
        Assume.That(CompiledNetwork.IsSupported, "this runtime compiles dynamic code");
        SortingNetwork network = SortingNetwork.For(9, 4, 4);
        CompiledNetwork.SortKeys first = CompiledNetwork.For<Vector<int>>(network, 4, 4);
        CompiledNetwork.SortKeys second = CompiledNetwork.For<Vector<int>>(network, 4, 4);
        Assert.That(second, Is.SameAs(first));
    }

    [Test]
    public void For_NotAVectorOfInt_ThrowsNamingTheType()
    {
        var e = Assert.Throws<ArgumentException>(() => CompiledNetwork.For<Vector<float>>(SortingNetwork.For(3, 0, 2), 0, 2));
        Assert.That(e!.Message, Does.Contain("Vector`1[System.Single]"));
    }

    private static void AssertSortsEveryZeroOneInput<TVector>(int count)
        where TVector : struct
    {
        // The 0-1 principle: a comparator network that sorts every sequence of zeros and ones sorts every sequence.
        for (int n = 1; n <= 16; n++)
        {
            CompiledNetwork.SortKeys sort = CompiledNetwork.For<TVector>(SortingNetwork.For(n, 0, n - 1), 0, n - 1);
            var keys = new int[n * count];
            for (int first = 0; first < 1 << n; first += count)
            {
                for (int lane = 0; lane < count; lane++)
                {
                    int bits = (first + lane) & ((1 << n) - 1);
                    for (int w = 0; w < n; w++)
                    {
                        keys[(w * count) + lane] = (bits >> w) & 1;
                    }
                }

                sort(ref keys[0]);
                for (int lane = 0; lane < count; lane++)
                {
                    int ones = int.PopCount((first + lane) & ((1 << n) - 1));
                    for (int w = 0; w < n; w++)
                    {
                        if (keys[(w * count) + lane] != (w >= n - ones ? 1 : 0))
                        {
                            Assert.Fail($"n = {n}, input {(first + lane) & ((1 << n) - 1):B}: wire {w} holds {keys[(w * count) + lane]}");
                        }
                    }
                }
            }
        }
    }
}
