using System.Numerics;
using System.Runtime.Intrinsics;
using FederatedSharp.Aggregation.Kernels;

namespace FederatedSharp.Tests.Aggregation.Kernels;

[Category("Kernels")]
public class RegisterSortTests
{
    [Test]
    public void Sixteen_VectorKeys_SortsEveryZeroOneInputInEveryLane()
    {
        // The 0-1 principle; each lane of a vector gets its own input, so every lane is checked, not only the first.
        AssertSortsEveryZeroOneInput<Vector<int>, KeysVector>();
    }

    [Test]
    public void Sixteen_512BitKeys_SortsEveryZeroOneInputInEveryLane()
    {
        if (!Vector512.IsHardwareAccelerated)
        {
            Assert.Ignore("512-bit vectors are not accelerated here; the Vector<T> test covers the network.");
        }

        AssertSortsEveryZeroOneInput<Vector512<int>, Keys512>();
    }

    [Test]
    public void Sixteen_ExtremeKeys_SortsAsSignedIntegers()
    {
        int count = KeysVector.Count;
        var random = new Random(16);
        var keys = new int[16 * count];
        for (int trial = 0; trial < 500; trial++)
        {
            for (int i = 0; i < keys.Length; i++)
            {
                keys[i] = random.Next(4) switch { 0 => int.MinValue, 1 => int.MaxValue, 2 => 0, _ => random.Next(int.MinValue, int.MaxValue) };
            }

            int[][] expected = Enumerable.Range(0, count).Select(lane => Enumerable.Range(0, 16).Select(w => keys[(w * count) + lane]).Order().ToArray()).ToArray();
            RegisterSort.Sixteen<Vector<int>, KeysVector>(ref keys[0]);
            for (int lane = 0; lane < count; lane++)
            {
                Assert.That(Enumerable.Range(0, 16).Select(w => keys[(w * count) + lane]), Is.EqualTo(expected[lane]), $"trial {trial}, lane {lane}");
            }
        }
    }

    private static void AssertSortsEveryZeroOneInput<TVector, TOps>()
        where TVector : struct
        where TOps : struct, IKeyVector<TVector>
    {
        int count = TOps.Count;
        var keys = new int[16 * count];
        for (int first = 0; first < 1 << 16; first += count)
        {
            for (int lane = 0; lane < count; lane++)
            {
                for (int w = 0; w < 16; w++)
                {
                    keys[(w * count) + lane] = ((first + lane) >> w) & 1;
                }
            }

            RegisterSort.Sixteen<TVector, TOps>(ref keys[0]);
            for (int lane = 0; lane < count; lane++)
            {
                int ones = int.PopCount(first + lane);
                for (int w = 0; w < 16; w++)
                {
                    if (keys[(w * count) + lane] != (w >= 16 - ones ? 1 : 0))
                    {
                        Assert.Fail($"input {first + lane:B16}: wire {w} holds {keys[(w * count) + lane]}");
                    }
                }
            }
        }
    }
}
