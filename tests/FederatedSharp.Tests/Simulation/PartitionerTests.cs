using FederatedSharp.Simulation;

namespace FederatedSharp.Tests.Simulation;

public class IidPartitionerTests
{
    [Test]
    public void Partition_103SamplesOver10Clients_CoversAllOnceWithBalancedSizes()
    {
        IReadOnlyList<int[]> parts = IidPartitioner.Partition(103, 10, 1);
        Assert.Multiple(() =>
        {
            Assert.That(parts.SelectMany(p => p).OrderBy(i => i), Is.EqualTo(Enumerable.Range(0, 103)));
            Assert.That(parts.Select(p => p.Length), Is.All.InRange(10, 11));
            Assert.That(IidPartitioner.Partition(103, 10, 1), Is.EqualTo(parts));
            Assert.That(IidPartitioner.Partition(103, 10, 2), Is.Not.EqualTo(parts));
        });
    }
}

public class DirichletPartitionerTests
{
    private static readonly int[] Labels = Enumerable.Range(0, 1000).Select(i => i % 10).ToArray();

    [Test]
    public void Partition_SameSeed_SamePartitionCoveringEverySampleOnce()
    {
        IReadOnlyList<int[]> a = DirichletPartitioner.Partition(Labels, 20, 0.5, 7, minPartitionSize: 5);
        Assert.Multiple(() =>
        {
            Assert.That(a.SelectMany(p => p).OrderBy(i => i), Is.EqualTo(Enumerable.Range(0, 1000)));
            Assert.That(a.Select(p => p.Length), Is.All.GreaterThanOrEqualTo(5));
            Assert.That(DirichletPartitioner.Partition(Labels, 20, 0.5, 7, minPartitionSize: 5), Is.EqualTo(a));
        });
    }

    [Test]
    public void Partition_SmallAlpha_MoreLabelSkewThanLargeAlpha()
    {
        double Skew(double alpha)
        {
            IReadOnlyList<int[]> parts = DirichletPartitioner.Partition(Labels, 10, alpha, 3);
            // Mean share of the most frequent label per client: 0.1 when IID, 1.0 when each client has one label.
            return parts.Where(p => p.Length > 0).Average(p => p.GroupBy(i => Labels[i]).Max(g => g.Count()) / (double)p.Length);
        }

        double skewed = Skew(0.1);
        double balanced = Skew(100);
        Assert.Multiple(() =>
        {
            Assert.That(skewed, Is.GreaterThan(0.5));
            Assert.That(balanced, Is.LessThan(0.25));
        });
    }

    [Test]
    public void Partition_ImpossibleMinimum_ThrowsClearly()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => DirichletPartitioner.Partition(Labels, 20, 0.5, 1, minPartitionSize: 60));
        Assert.Throws<ArgumentOutOfRangeException>(() => DirichletPartitioner.Partition(Labels, 20, 0, 1));
    }
}

public class NaturalPartitionerTests
{
    [Test]
    public void Partition_ClientIds_GroupsIndicesByClient()
    {
        IReadOnlyDictionary<string, int[]> parts = NaturalPartitioner.Partition(new[] { "va", "cleveland", "va", "hungary", "cleveland" });
        Assert.Multiple(() =>
        {
            Assert.That(parts.Keys, Is.EqualTo(new[] { "cleveland", "hungary", "va" }));
            Assert.That(parts["va"], Is.EqualTo(new[] { 0, 2 }));
            Assert.That(parts["cleveland"], Is.EqualTo(new[] { 1, 4 }));
        });
    }

    [Test]
    public void Partition_EmptyId_Throws()
    {
        Assert.Throws<ArgumentException>(() => NaturalPartitioner.Partition(new[] { "a", "" }));
    }
}
