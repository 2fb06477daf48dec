namespace FederatedSharp.Tests;

public class DeterministicRandomTests
{
    [Test]
    public void NextUInt64_SameSeed_SameSequence()
    {
        var a = new DeterministicRandom(123);
        var b = new DeterministicRandom(123);
        var c = new DeterministicRandom(124);
        ulong[] sa = Enumerable.Range(0, 100).Select(_ => a.NextUInt64()).ToArray();
        Assert.Multiple(() =>
        {
            Assert.That(Enumerable.Range(0, 100).Select(_ => b.NextUInt64()), Is.EqualTo(sa));
            Assert.That(Enumerable.Range(0, 100).Select(_ => c.NextUInt64()), Is.Not.EqualTo(sa));
        });
    }

    [Test]
    public void NextUInt64_Seed0_MatchesPinnedValues()
    {
        // Pinned so that a change of generator (which would silently change every seeded experiment) fails loudly.
        var random = new DeterministicRandom(0);
        ulong first = random.NextUInt64();
        Assert.That(first, Is.EqualTo(new DeterministicRandom(0).NextUInt64()));
        Assert.That(first, Is.EqualTo(0x99EC5F36CB75F2B4UL));
    }

    [Test]
    public void Next_Bounds_AlwaysInRangeAndCoversIt()
    {
        var random = new DeterministicRandom(9);
        var seen = new bool[7];
        for (int i = 0; i < 10_000; i++)
        {
            int v = random.Next(3, 10);
            Assert.That(v, Is.InRange(3, 9));
            seen[v - 3] = true;
            double d = random.NextDouble();
            Assert.That(d, Is.GreaterThanOrEqualTo(0).And.LessThan(1));
        }

        Assert.That(seen, Is.All.True);
    }

    [Test]
    public void Mix_DifferentInputs_DifferentSeeds()
    {
        Assert.Multiple(() =>
        {
            Assert.That(DeterministicRandom.Mix(1, 2), Is.Not.EqualTo(DeterministicRandom.Mix(2, 1)));
            ulong once = DeterministicRandom.Mix(1, 2);
            Assert.That(DeterministicRandom.Mix(1, 2), Is.EqualTo(once));
            Assert.That(DeterministicRandom.HashString("client-1"), Is.Not.EqualTo(DeterministicRandom.HashString("client-2")));
        });
    }
}
