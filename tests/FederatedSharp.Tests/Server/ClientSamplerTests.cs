using FederatedSharp.Server;

namespace FederatedSharp.Tests.Server;

public class ClientSamplerTests
{
    private static readonly string[] Ids = Enumerable.Range(0, 20).Select(i => $"client-{i:D2}").ToArray();

    [TestCase(10, 1.0, 2, 10)]
    [TestCase(10, 0.1, 2, 2)]
    [TestCase(10, 0.35, 2, 3)]
    [TestCase(1, 1.0, 2, 1)]
    public void SampleSize_FlowerRule(int available, double fraction, int minimum, int expected)
    {
        Assert.That(ClientSampler.SampleSize(available, fraction, minimum), Is.EqualTo(expected));
    }

    [Test]
    public void Sample_SameSeedAndRound_SameClientsWhateverTheInputOrder()
    {
        IReadOnlyList<string> a = ClientSampler.Sample(Ids, 5, 42, 3, RoundPhase.Fit);
        IReadOnlyList<string> b = ClientSampler.Sample(Ids.Reverse().ToArray(), 5, 42, 3, RoundPhase.Fit);
        Assert.That(b, Is.EqualTo(a));
    }

    [Test]
    public void Sample_DifferentRoundOrPhase_DifferentDraw()
    {
        IReadOnlyList<string> a = ClientSampler.Sample(Ids, 5, 42, 3, RoundPhase.Fit);
        Assert.Multiple(() =>
        {
            Assert.That(ClientSampler.Sample(Ids, 5, 42, 4, RoundPhase.Fit), Is.Not.EqualTo(a));
            Assert.That(ClientSampler.Sample(Ids, 5, 42, 3, RoundPhase.Evaluate), Is.Not.EqualTo(a));
        });
    }

    [Test]
    public void Sample_ManyRounds_DistinctAndRoughlyUniform()
    {
        var counts = Ids.ToDictionary(id => id, _ => 0);
        for (int round = 1; round <= 2000; round++)
        {
            IReadOnlyList<string> sample = ClientSampler.Sample(Ids, 5, 1, round, RoundPhase.Fit);
            Assert.That(sample, Is.Unique);
            foreach (string id in sample)
            {
                counts[id]++;
            }
        }

        // Each client is expected 2000 * 5 / 20 = 500 times; 5 sigma is about 97.
        Assert.That(counts.Values, Is.All.InRange(400, 600));
    }

    [Test]
    public void Sample_CountAboveAvailable_Throws()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => ClientSampler.Sample(Ids, 21, 1, 1, RoundPhase.Fit));
    }
}
