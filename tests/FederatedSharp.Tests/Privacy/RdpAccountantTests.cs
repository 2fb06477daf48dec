using FederatedSharp.Privacy;

namespace FederatedSharp.Tests.Privacy;

public class RdpAccountantTests
{
    [Test]
    public void GetPrivacySpent_OpacusDocumentedSetting_MatchesItsPrintedEpsilon()
    {
        // opacus.ai compute_dp_sgd_privacy: dataset 60,000, batch 256, noise 1.12, 60 epochs, delta 1e-5, orders
        // 10, 20, 100 "satisfies (epsilon, delta)-DP of (2.95, 1e-5)". Steps as Opacus counts them: int(epochs / q).
        double q = 256.0 / 60000;
        var accountant = new RdpAccountant();
        accountant.Step(q, 1.12, (long)(60 / q));
        (double epsilon, int order) = accountant.GetPrivacySpent(1e-5, new[] { 10, 20, 100 });
        TestContext.Out.WriteLine($"epsilon {epsilon:F4} at order {order}");
        Assert.That(epsilon, Is.EqualTo(2.95).Within(1).Percent);
    }

    [Test]
    public void GetPrivacySpent_MomentsAccountantFigure_MatchesPublishedEpsilon()
    {
        // Bu, Dong, Long, Su 2020 (NoisySGD on MNIST, Figure 4): q = 256/60000, sigma = 1.3: the moments accountant
        // gives (1.34, 1e-5)-DP at the 20th epoch.
        double q = 256.0 / 60000;
        var accountant = new RdpAccountant();
        accountant.Step(q, 1.3, (long)(20 / q));
        Assert.That(accountant.GetPrivacySpent(1e-5).Epsilon, Is.EqualTo(1.34).Within(1).Percent);
    }

    [TestCase(2)]
    [TestCase(7)]
    [TestCase(30)]
    public void ComputeRdp_NoSampling_IsTheGaussianMechanism(int order)
    {
        Assert.That(RdpAccountant.ComputeRdp(1.0, 2.0, order), Is.EqualTo(order / 8.0).Within(1e-12));
    }

    [TestCase(0.1, 1.5, 3)]
    [TestCase(0.01, 0.8, 6)]
    public void ComputeRdp_SmallOrder_EqualsTheBinomialSumComputedDirectly(double q, double sigma, int order)
    {
        double a = 0;
        for (int k = 0; k <= order; k++)
        {
            a += MathNet.Numerics.SpecialFunctions.Binomial(order, k) * Math.Pow(1 - q, order - k) * Math.Pow(q, k) * Math.Exp(((k * k) - k) / (2 * sigma * sigma));
        }

        Assert.That(RdpAccountant.ComputeRdp(q, sigma, order), Is.EqualTo(Math.Log(a) / (order - 1)).Within(1e-12));
    }

    [Test]
    public void GetPrivacySpent_MoreStepsOrLessNoise_CostsMore()
    {
        double Epsilon(double sigma, long steps)
        {
            var accountant = new RdpAccountant();
            accountant.Step(0.01, sigma, steps);
            return accountant.GetPrivacySpent(1e-5).Epsilon;
        }

        Assert.Multiple(() =>
        {
            Assert.That(Epsilon(1.1, 20_000), Is.GreaterThan(Epsilon(1.1, 10_000)));
            Assert.That(Epsilon(0.8, 10_000), Is.GreaterThan(Epsilon(1.1, 10_000)));
        });
    }

    [Test]
    public void Step_InvalidArguments_Throw()
    {
        var accountant = new RdpAccountant();
        Assert.Multiple(() =>
        {
            Assert.Throws<ArgumentOutOfRangeException>(() => accountant.Step(1.5, 1));
            Assert.Throws<ArgumentOutOfRangeException>(() => accountant.Step(0.1, 0));
            Assert.Throws<ArgumentOutOfRangeException>(() => accountant.GetPrivacySpent(0));
        });
    }

    [TestCase(0.01, 1.1, 2)]
    [TestCase(0.01, 1.1, 7)]
    [TestCase(0.1, 0.8, 5)]
    [TestCase(0.004, 1.3, 32)]
    public void LogAFractional_AtIntegerOrders_EqualsTheBinomialExpansion(double q, double sigma, int order)
    {
        double series = RdpAccountant.LogAFractional(q, sigma, order) / (order - 1);

        Assert.That(series, Is.EqualTo(RdpAccountant.ComputeRdp(q, sigma, order)).Within(1e-9).Percent);
    }

    [Test]
    public void ComputeRdp_FractionalOrders_LieBetweenTheirIntegerNeighboursAndIncrease()
    {
        const double q = 0.01, sigma = 1.1;
        double previous = 0;
        foreach (double order in new[] { 1.5, 2.0, 2.25, 2.5, 2.75, 3.0, 4.5, 5.0 })
        {
            double rdp = RdpAccountant.ComputeRdp(q, sigma, order);
            Assert.That(rdp, Is.GreaterThan(previous), $"RDP is increasing in the order (at {order})");
            previous = rdp;
        }

        Assert.That(RdpAccountant.ComputeRdp(q, sigma, 2.5), Is.InRange(RdpAccountant.ComputeRdp(q, sigma, 2), RdpAccountant.ComputeRdp(q, sigma, 3)));
    }

    [Test]
    public void GetPrivacySpent_ExtendedOrders_NoLooserThanIntegerOrders()
    {
        // The documented setting: q = 0.01, sigma = 1.1, 10,000 steps, delta = 1e-5.
        var accountant = new RdpAccountant();
        accountant.Step(0.01, 1.1, 10_000);

        (double integer, int integerOrder) = accountant.GetPrivacySpent(1e-5);
        (double extended, double extendedOrder) = accountant.GetPrivacySpent(1e-5, RdpAccountant.ExtendedOrders);
        TestContext.Out.WriteLine($"q 0.01, sigma 1.1, 10,000 steps: integer orders {integer:F4} (order {integerOrder}), with fractions {extended:F4} (order {extendedOrder})");

        Assert.Multiple(() =>
        {
            Assert.That(extended, Is.LessThanOrEqualTo(integer));
            Assert.That(extended, Is.GreaterThan(integer * 0.9), "fractions refine, they do not change the picture");
        });
    }
}
