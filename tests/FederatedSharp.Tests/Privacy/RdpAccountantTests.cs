using FederatedSharp.Privacy;

namespace FederatedSharp.Tests.Privacy;

public class RdpAccountantTests
{
    [Test]
    public void GetPrivacySpent_OpacusDocumentedSetting_MatchesItsPrintedEpsilon()
    {
        // opacus.ai compute_dp_sgd_privacy: dataset 60,000, batch 256, noise 1.12, 60 epochs, delta 1e-5, orders
        // 10, 20, 100 "satisfies (epsilon, delta)-DP of (2.95, 1e-5)". Steps as Opacus counts them: int(epochs / q).
        // The printed figure predates Opacus' switch to the Balle et al. conversion: it is the classic one's.
        double q = 256.0 / 60000;
        var accountant = new RdpAccountant(RdpConversion.Classic);
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
        var accountant = new RdpAccountant(RdpConversion.Classic);
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

    [Test]
    public void ComputeEpsilon_ConstantRdpOfDpAccountingsTest_GivesItsHandComputedEpsilon()
    {
        // dp_accounting rdp_privacy_accountant_test.test_compute_epsilon_delta_pure_dp: orders 2..32, RDP 1.1 at each,
        // delta 1e-5 give epsilon 1.32783806176 at order 32 (Balle et al. 2020's conversion).
        double[] orders = Enumerable.Range(2, 31).Select(o => (double)o).ToArray();

        (double epsilon, double order) = RdpAccountant.ComputeEpsilon(orders, orders.Select(_ => 1.1).ToArray(), 1e-5);

        Assert.That(epsilon, Is.EqualTo(1.32783806176).Within(1e-10));
        Assert.That(order, Is.EqualTo(32));
    }

    [Test]
    public void GetPrivacySpent_GaussianCalibratedToOneAndOneInAMillion_GivesEpsilonOneWithFineOrders()
    {
        // dp_accounting test_compute_epsilon_delta_gaussian: sigma 4.530877117, no sampling, orders 1.000 to 99.999 in
        // steps of 0.001: epsilon 1 at delta 1e-6 (to 7 places).
        var accountant = new RdpAccountant();
        accountant.Step(1.0, 4.530877117);

        (double epsilon, _) = accountant.GetPrivacySpent(1e-6, Enumerable.Range(1001, 98999).Select(i => i * 0.001));

        Assert.That(epsilon, Is.EqualTo(1).Within(5e-7));
    }

    [Test]
    public void ComputeRdp_PoissonSampledGaussianOfDpAccountingsTest_MatchesItsValuesFromOrderFive()
    {
        // dp_accounting test_compute_rdp_poisson_sampled_gaussian: sigma 2.5, q 0.01, 50 steps, rtol 1e-4. Its values at
        // orders 1.5 and 2.5 (6.70579741e-4, 1.08548710e-3) are 3.2% and 0.006% above the integral that defines A_alpha;
        // ours equal that integral (next test), so only the orders where the two agree are compared here.
        double[] orders = { 5, 50, 100 };
        double[] expected = { 2.18075656e-03, 2.38460375e-02, 1.67416308e02 };

        double[] rdp = orders.Select(o => 50 * RdpAccountant.ComputeRdp(0.01, 2.5, o)).ToArray();

        Assert.That(rdp, Is.EqualTo(expected).Within(1e-4).Percent);
    }

    [TestCase(1.5)]
    [TestCase(2.5)]
    [TestCase(3.7)]
    public void ComputeRdp_FractionalOrder_EqualsTheDefiningIntegral(double order)
    {
        // A_alpha = E_{x ~ N(0, s^2)} [(1 - q + q exp((2x - 1) / (2 s^2)))^alpha], by the trapezoidal rule.
        const double q = 0.01, sigma = 2.5;
        const int n = 200_000;
        double lo = -20 * sigma, hi = (20 * sigma) + 5, h = (hi - lo) / n, sum = 0;
        for (int i = 0; i <= n; i++)
        {
            double x = lo + (i * h);
            double pdf = Math.Exp(-x * x / (2 * sigma * sigma)) / (sigma * Math.Sqrt(2 * Math.PI));
            sum += (i == 0 || i == n ? 0.5 : 1) * pdf * Math.Pow(1 - q + (q * Math.Exp(((2 * x) - 1) / (2 * sigma * sigma))), order);
        }

        double integral = Math.Log(sum * h) / (order - 1);

        Assert.That(RdpAccountant.ComputeRdp(q, sigma, order), Is.EqualTo(integral).Within(1e-6).Percent);
    }

    [Test]
    public void GetPrivacySpent_Balle2020Default_TighterThanClassicOnTheSameSteps()
    {
        var balle = new RdpAccountant();
        var classic = new RdpAccountant(RdpConversion.Classic);
        balle.Step(0.01, 1.1, 1000);
        classic.Step(0.01, 1.1, 1000);

        Assert.That(balle.GetPrivacySpent(1e-5).Epsilon, Is.LessThan(classic.GetPrivacySpent(1e-5).Epsilon));
    }
}
