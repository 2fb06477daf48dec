using FederatedSharp.Privacy;
using MathNet.Numerics.Distributions;

namespace FederatedSharp.Tests.Privacy;

/// <summary>PldAccountant against dp_accounting's published test values, the exact Gaussian, and the RDP accountant.</summary>
public class PldAccountantTests
{
    /// <summary>The exact delta(epsilon) of the Gaussian mechanism with mu = 1 / sigma (Balle and Wang 2018, theorem 8).</summary>
    private static double GaussianDelta(double sigma, double epsilon)
    {
        double mu = 1 / sigma;
        return Normal.CDF(0, 1, (-epsilon / mu) + (mu / 2)) - (Math.Exp(epsilon) * Normal.CDF(0, 1, (-epsilon / mu) - (mu / 2)));
    }

    [Test]
    public void GetDelta_ThreeGaussiansOfDpAccountingsTest_GivesItsExactDelta()
    {
        // dp_accounting pld_privacy_accountant_test.test_gaussian_basic: sigma sqrt(3) composed 3 times, delta(1) = 0.126936.
        var accountant = new PldAccountant();
        accountant.Step(1.0, Math.Sqrt(3), 1);
        accountant.Step(1.0, Math.Sqrt(3), 2);

        Assert.Multiple(() =>
        {
            Assert.That(accountant.GetDelta(1), Is.EqualTo(0.126936).Within(1e-3));
            Assert.That(accountant.GetEpsilon(0.126936), Is.EqualTo(1).Within(1e-3));
        });
    }

    [Test]
    public void GetDelta_PoissonSubsampledGaussianOfDpAccountingsTest_GivesItsDelta()
    {
        // dp_accounting test_poisson_subsampled_gaussian: q 0.2, sigma 0.5, 3 steps, delta(1) = 0.15594.
        var accountant = new PldAccountant();
        accountant.Step(0.2, 0.5, 1);
        accountant.Step(0.2, 0.5, 2);

        Assert.Multiple(() =>
        {
            Assert.That(accountant.GetDelta(1), Is.EqualTo(0.15594).Within(1e-3));
            Assert.That(accountant.GetEpsilon(0.15594), Is.EqualTo(1).Within(1e-3));
        });
    }

    [TestCase(0.8, 0.5)]
    [TestCase(2.0, 1.0)]
    [TestCase(5.0, 0.1)]
    public void GetDelta_NoSampling_UpperBoundsTheExactGaussianTightly(double sigma, double epsilon)
    {
        var accountant = new PldAccountant();
        accountant.Step(1.0, sigma);

        double exact = GaussianDelta(sigma, epsilon);
        double delta = accountant.GetDelta(epsilon);

        Assert.That(delta, Is.GreaterThanOrEqualTo(exact * (1 - 1e-9)), "pessimistic");
        Assert.That(delta, Is.EqualTo(exact).Within(1).Percent);
    }

    [TestCase(0.01, 1.1, 1000, 1e-5)]
    [TestCase(0.1, 1.1, 50, 1e-5)]
    [TestCase(1.0, 5.0, 10, 1e-5)]
    [TestCase(0.1, 1.0, 100, 1e-6)]
    [TestCase(0.5, 2.0, 50, 1e-5)]
    public void GetEpsilon_SameSettingAsRdp_NotAboveRdpsEpsilon(double q, double sigma, long steps, double delta)
    {
        var pld = new PldAccountant();
        var rdp = new RdpAccountant();
        pld.Step(q, sigma, steps);
        rdp.Step(q, sigma, steps);

        double pldEpsilon = pld.GetEpsilon(delta);
        double rdpEpsilon = rdp.GetPrivacySpent(delta, RdpAccountant.ExtendedOrders).Epsilon;
        var classic = new RdpAccountant(RdpConversion.Classic);
        classic.Step(q, sigma, steps);
        TestContext.Out.WriteLine($"| {q:G4} | {sigma} | {steps} | {delta:G2} | {classic.GetPrivacySpent(delta, RdpAccountant.ExtendedOrders).Epsilon:F3} | {rdpEpsilon:F3} | {pldEpsilon:F3} |");

        Assert.That(pldEpsilon, Is.LessThanOrEqualTo(rdpEpsilon));
        Assert.That(pldEpsilon, Is.GreaterThan(rdpEpsilon * 0.5), "the same order of magnitude: both bound the same mechanism");
    }

    [Test]
    public void GetEpsilon_MoreStepsOrLessNoise_GrowsAndNoStepsIsZero()
    {
        static double Epsilon(double sigma, long steps)
        {
            var accountant = new PldAccountant(discretization: 1e-3);
            accountant.Step(0.05, sigma, steps);
            return accountant.GetEpsilon(1e-5);
        }

        Assert.Multiple(() =>
        {
            Assert.That(Epsilon(1.0, 200), Is.GreaterThan(Epsilon(1.0, 100)));
            Assert.That(Epsilon(0.8, 100), Is.GreaterThan(Epsilon(1.0, 100)));
            Assert.That(new PldAccountant().GetEpsilon(1e-5), Is.Zero);
        });
    }

    [Test]
    public void Step_InvalidArguments_ThrowNamingThem()
    {
        var accountant = new PldAccountant();

        Assert.Multiple(() =>
        {
            Assert.That(() => accountant.Step(1.5, 1), Throws.TypeOf<ArgumentOutOfRangeException>().With.Property("ParamName").EqualTo("sampleRate"));
            Assert.That(() => accountant.Step(0.5, 0), Throws.TypeOf<ArgumentOutOfRangeException>().With.Property("ParamName").EqualTo("noiseMultiplier"));
            Assert.That(() => accountant.GetEpsilon(0), Throws.TypeOf<ArgumentOutOfRangeException>().With.Property("ParamName").EqualTo("delta"));
            Assert.That(() => new PldAccountant(discretization: 0), Throws.TypeOf<ArgumentOutOfRangeException>());
        });
    }

    [TestCase(100, 10.0)]
    [TestCase(1000, 30.0)]
    public void GetEpsilon_ManyCompositionsWithoutSampling_AboveTheExactGaussianByAtMostTheRoundingBias(long steps, double sigma)
    {
        // T Gaussian steps of sigma are one Gaussian of sigma / sqrt(T): the exact epsilon is known. Pessimistic rounding
        // moves each step's loss up by at most h, so the composed curve lies above the exact one by at most T h.
        var accountant = new PldAccountant();
        accountant.Step(1.0, sigma, steps);
        double composed = sigma / Math.Sqrt(steps);
        double delta = 1e-5;
        double exact = MathNet.Numerics.RootFinding.Brent.FindRoot(e => GaussianDelta(composed, e) - delta, 0, 50, 1e-12);

        double epsilon = accountant.GetEpsilon(delta);

        TestContext.Out.WriteLine($"{steps} steps of sigma {sigma}: PLD {epsilon:F5}, exact {exact:F5}, bound T h = {steps * accountant.Discretization:G3}");
        Assert.That(epsilon, Is.GreaterThanOrEqualTo(exact - 1e-9));
        Assert.That(epsilon - exact, Is.LessThanOrEqualTo(steps * accountant.Discretization));
    }
}
