using System.Security.Cryptography;
using FederatedSharp.Privacy.SecureAggregation;

namespace FederatedSharp.Tests.Privacy.SecureAggregation;

public class ShamirTests
{
    [TestCase(2, 3)]
    [TestCase(3, 5)]
    [TestCase(5, 7)]
    [TestCase(10, 10)]
    public void Combine_AnyThresholdShares_RecoverTheSecret(int threshold, int count)
    {
        byte[] secret = RandomNumberGenerator.GetBytes(32);
        byte[][] shares = Shamir.Split(secret, count, threshold);
        var random = new Random(threshold * 100 + count);

        for (int trial = 0; trial < 5; trial++)
        {
            var chosen = Enumerable.Range(1, count).OrderBy(_ => random.Next()).Take(threshold).Select(x => (x, shares[x - 1])).ToList();
            Assert.That(Shamir.Combine(chosen), Is.EqualTo(secret));
        }
    }

    [Test]
    public void Combine_OneShareTooFew_DoesNotRecoverTheSecret()
    {
        byte[] secret = RandomNumberGenerator.GetBytes(32);
        byte[][] shares = Shamir.Split(secret, 7, 5);

        byte[]? recovered = null;
        try
        {
            recovered = Shamir.Combine(Enumerable.Range(1, 4).Select(x => (x, shares[x - 1])).ToList());
        }
        catch (SecureAggregationException)
        {
            // Limbs out of range also show that four shares say nothing.
        }

        Assert.That(recovered, Is.Not.EqualTo(secret));
    }

    [Test]
    public void Combine_RepeatedShare_Throws()
    {
        byte[][] shares = Shamir.Split(new byte[32], 3, 2);

        Assert.Throws<SecureAggregationException>(() => Shamir.Combine([(1, shares[0]), (1, shares[0])]));
    }
}
