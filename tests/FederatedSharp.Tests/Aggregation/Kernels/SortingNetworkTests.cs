using FederatedSharp.Aggregation.Kernels;

namespace FederatedSharp.Tests.Aggregation.Kernels;

public class SortingNetworkTests
{
    [Test]
    public void For_EverySizeUpTo16_SortsEveryZeroOneInput()
    {
        // The 0-1 principle: a comparator network that sorts every sequence of zeros and ones sorts every sequence.
        for (int n = 1; n <= 16; n++)
        {
            SortingNetwork network = SortingNetwork.For(n, 0, n - 1);
            var wires = new int[n];
            for (int bits = 0; bits < 1 << n; bits++)
            {
                for (int w = 0; w < n; w++)
                {
                    wires[w] = (bits >> w) & 1;
                }

                Run(network, wires);
                int ones = int.PopCount(bits);
                Assert.That(wires, Is.EqualTo(Enumerable.Repeat(0, n - ones).Concat(Enumerable.Repeat(1, ones))), $"n = {n}, input {bits:B}");
            }
        }
    }

    [TestCase(11)]
    [TestCase(25)]
    [TestCase(64)]
    public void For_MedianOnly_PrunesComparatorsAndStillPlacesTheMedian(int n)
    {
        SortingNetwork full = SortingNetwork.For(n, 0, n - 1);
        SortingNetwork median = SortingNetwork.For(n, n / 2, n / 2);
        var random = new Random(n);
        for (int trial = 0; trial < 2000; trial++)
        {
            int[] values = Enumerable.Range(0, n).Select(_ => random.Next(n)).ToArray();
            int[] wires = (int[])values.Clone();
            Run(median, wires);
            Assert.That(wires[n / 2], Is.EqualTo(values.Order().ElementAt(n / 2)));
        }

        TestContext.Out.WriteLine($"n = {n}: {full.Low.Length} comparators to sort, {median.Low.Length} to place the median");
        Assert.That(median.Low.Length, Is.LessThan(full.Low.Length));
    }

    [Test]
    public void For_RanksOutOfRange_Throws()
    {
        Assert.That(() => SortingNetwork.For(5, 3, 5), Throws.TypeOf<ArgumentOutOfRangeException>().With.Message.Contains("Ranks 3..5 are not within 0..4"));
    }

    private static void Run(SortingNetwork network, int[] wires)
    {
        for (int c = 0; c < network.Low.Length; c++)
        {
            int a = wires[network.Low[c]];
            int b = wires[network.High[c]];
            wires[network.Low[c]] = Math.Min(a, b);
            wires[network.High[c]] = Math.Max(a, b);
        }
    }
}
