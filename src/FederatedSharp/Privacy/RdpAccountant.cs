using MathNet.Numerics;

namespace FederatedSharp.Privacy;

/// <summary>
/// Rényi-DP accountant of the sampled Gaussian mechanism (Mironov 2017, "Rényi Differential Privacy"; Mironov, Talwar,
/// Zhang 2019, "Rényi Differential Privacy of the Sampled Gaussian Mechanism"): the privacy of <c>steps</c>
/// compositions of a Gaussian mechanism with noise multiplier sigma applied to a Poisson sample of rate q, converted
/// to (epsilon, delta). Integer orders use the exact binomial expansion
/// <c>A_a = sum_k C(a,k) (1-q)^(a-k) q^k exp((k^2 - k) / (2 sigma^2))</c>, <c>RDP(a) = log(A_a) / (a - 1)</c>, computed in
/// log space (MathNet's log-binomial); fractional orders use the two-sided series of Mironov, Talwar and Zhang (section
/// 3.3: the integral split where the two mixture components meet, each side expanded with generalized binomial
/// coefficients and closed with erfc). RDP becomes (epsilon, delta) by the conversion of Balle, Barthe, Gaboardi, Hsu
/// and Sato 2020 (theorem 21), <c>epsilon = min_a RDP(a) + log((a - 1) / a) - (log delta + log a) / (a - 1)</c>, which
/// Opacus and dp_accounting use; the classic <c>RDP(a) + log(1/delta) / (a - 1)</c> (Mironov 2017) stays selectable
/// with <see cref="RdpConversion.Classic"/>. For a tighter bound still, see <see cref="PldAccountant"/>.
/// </summary>
public sealed class RdpAccountant
{
    /// <summary>The default orders: 2 to 64, 80, 96, 128, 256, 512.</summary>
    public static IReadOnlyList<int> DefaultOrders { get; } = Enumerable.Range(2, 63).Concat(new[] { 80, 96, 128, 256, 512 }).ToArray();

    /// <summary>
    /// Orders with fractions for a tighter epsilon: 1.1 to 10.9 in steps of 0.1, then 11 to 64, 80, 96, 128, 256, 512
    /// (the grid privacy libraries commonly use).
    /// </summary>
    public static IReadOnlyList<double> ExtendedOrders { get; } =
        Enumerable.Range(11, 99).Select(x => x / 10.0).Concat(Enumerable.Range(11, 54).Select(x => (double)x)).Concat(new double[] { 80, 96, 128, 256, 512 }).ToArray();

    private readonly List<(double SampleRate, double NoiseMultiplier, long Steps)> _history = new();

    /// <summary>Creates an accountant.</summary>
    /// <param name="conversion">How RDP becomes (epsilon, delta); default Balle et al. 2020.</param>
    public RdpAccountant(RdpConversion conversion = RdpConversion.Balle2020)
    {
        if (!Enum.IsDefined(conversion))
        {
            throw new ArgumentOutOfRangeException(nameof(conversion), conversion, "Unknown RDP conversion.");
        }

        Conversion = conversion;
    }

    /// <summary>How RDP becomes (epsilon, delta).</summary>
    public RdpConversion Conversion { get; }

    /// <summary>Records <paramref name="steps"/> applications of the sampled Gaussian mechanism.</summary>
    /// <param name="sampleRate">q, the probability that a participant is in a step's sample, in [0, 1].</param>
    /// <param name="noiseMultiplier">sigma, the noise standard deviation divided by the sensitivity (&gt; 0).</param>
    /// <param name="steps">How many steps.</param>
    /// <exception cref="ArgumentOutOfRangeException">An argument is out of range.</exception>
    public void Step(double sampleRate, double noiseMultiplier, long steps = 1)
    {
        SampledGaussianStep.Check(sampleRate, noiseMultiplier, steps);
        _history.Add((sampleRate, noiseMultiplier, steps));
    }

    /// <summary>The smallest epsilon over <paramref name="orders"/> for <paramref name="delta"/>, and the order reaching it.</summary>
    /// <param name="delta">Target delta in (0, 1).</param>
    /// <param name="orders">RDP orders (integers &gt;= 2); null for <see cref="DefaultOrders"/>.</param>
    /// <returns>Epsilon and the best order.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="delta"/> is outside (0, 1) or an order is below 2.</exception>
    public (double Epsilon, int Order) GetPrivacySpent(double delta, IEnumerable<int>? orders = null)
    {
        var integers = (orders ?? DefaultOrders).ToList();
        if (integers.Any(order => order < 2))
        {
            throw new ArgumentOutOfRangeException(nameof(orders), "RDP orders must be integers >= 2.");
        }

        (double epsilon, double order) = GetPrivacySpent(delta, integers.Select(o => (double)o));
        return (epsilon, (int)order);
    }

    /// <summary>The smallest epsilon over real <paramref name="orders"/> (&gt; 1) for <paramref name="delta"/>, and the order reaching it.</summary>
    /// <param name="delta">Target delta in (0, 1).</param>
    /// <param name="orders">RDP orders above 1, for example <see cref="ExtendedOrders"/>.</param>
    /// <returns>Epsilon and the best order.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="delta"/> is outside (0, 1) or an order is not above 1.</exception>
    public (double Epsilon, double Order) GetPrivacySpent(double delta, IEnumerable<double> orders)
    {
        ArgumentNullException.ThrowIfNull(orders);
        if (!(delta > 0 && delta < 1))
        {
            throw new ArgumentOutOfRangeException(nameof(delta), delta, "Delta must lie in (0, 1).");
        }

        double best = double.PositiveInfinity;
        double bestOrder = 0;
        foreach (double order in orders)
        {
            if (!(order > 1) || !double.IsFinite(order))
            {
                throw new ArgumentOutOfRangeException(nameof(orders), order, "RDP orders must be finite and above 1.");
            }

            double rdp = _history.Sum(h => h.Steps * ComputeRdp(h.SampleRate, h.NoiseMultiplier, order));
            double epsilon = ToEpsilon(rdp, order, delta, Conversion);
            if (epsilon < best)
            {
                best = epsilon;
                bestOrder = order;
            }
        }

        return (best, bestOrder);
    }

    /// <summary>The epsilon that RDP <paramref name="rdp"/> at <paramref name="order"/> gives for <paramref name="delta"/>, never below 0.</summary>
    /// <param name="rdp">The RDP at the order.</param>
    /// <param name="order">The order, above 1.</param>
    /// <param name="delta">Target delta in (0, 1).</param>
    /// <param name="conversion">The conversion.</param>
    /// <returns>Epsilon.</returns>
    public static double ToEpsilon(double rdp, double order, double delta, RdpConversion conversion) => Math.Max(0, conversion switch
    {
        RdpConversion.Classic => rdp + (Math.Log(1 / delta) / (order - 1)),
        _ => rdp + Math.Log((order - 1) / order) - ((Math.Log(delta) + Math.Log(order)) / (order - 1)),
    });

    /// <summary>The smallest epsilon over <paramref name="orders"/> for RDP values computed elsewhere, and the order reaching it.</summary>
    /// <param name="orders">Orders above 1.</param>
    /// <param name="rdp">The RDP at each order.</param>
    /// <param name="delta">Target delta in (0, 1).</param>
    /// <param name="conversion">The conversion.</param>
    /// <returns>Epsilon and the best order.</returns>
    /// <exception cref="ArgumentException">The lists differ in length.</exception>
    public static (double Epsilon, double Order) ComputeEpsilon(IReadOnlyList<double> orders, IReadOnlyList<double> rdp, double delta, RdpConversion conversion = RdpConversion.Balle2020)
    {
        ArgumentNullException.ThrowIfNull(orders);
        ArgumentNullException.ThrowIfNull(rdp);
        if (orders.Count != rdp.Count)
        {
            throw new ArgumentException($"{orders.Count} orders for {rdp.Count} RDP values.", nameof(rdp));
        }

        (double best, double bestOrder) = (double.PositiveInfinity, 0);
        for (int i = 0; i < orders.Count; i++)
        {
            double epsilon = ToEpsilon(rdp[i], orders[i], delta, conversion);
            if (epsilon < best)
            {
                (best, bestOrder) = (epsilon, orders[i]);
            }
        }

        return (best, bestOrder);
    }

    /// <summary>The RDP of one application of the sampled Gaussian mechanism at a real order above 1.</summary>
    /// <param name="sampleRate">q.</param>
    /// <param name="noiseMultiplier">sigma.</param>
    /// <param name="order">alpha &gt; 1 (integers take the exact binomial expansion).</param>
    /// <returns>RDP(alpha).</returns>
    public static double ComputeRdp(double sampleRate, double noiseMultiplier, double order)
    {
        if (!(order > 1) || !double.IsFinite(order))
        {
            throw new ArgumentOutOfRangeException(nameof(order), order, "The order must be finite and above 1.");
        }

        if (order == Math.Floor(order) && order <= int.MaxValue)
        {
            return ComputeRdp(sampleRate, noiseMultiplier, (int)order);
        }

        if (sampleRate == 0)
        {
            return 0;
        }

        if (sampleRate == 1)
        {
            return order / (2 * noiseMultiplier * noiseMultiplier);
        }

        return LogAFractional(sampleRate, noiseMultiplier, order) / (order - 1);
    }

    /// <summary>
    /// log A_alpha by the two-sided series, for any real alpha &gt; 1 (exact for integers too, where the series ends).
    /// A_alpha = sum_k C(alpha,k) [ (1-q)^(alpha-k) q^k e^((k^2-k)/(2 s^2)) erfc((k - z0)/(sqrt2 s))/2
    ///                              + q^(alpha-k) (1-q)^k e^((j^2-j)/(2 s^2)) erfc((z0 - j)/(sqrt2 s))/2 ],
    /// j = alpha - k, z0 = s^2 log(1/q - 1) + 1/2. Terms are summed in log space with their signs.
    /// </summary>
    internal static double LogAFractional(double q, double sigma, double alpha)
    {
        double variance = sigma * sigma;
        double z0 = (variance * Math.Log((1 / q) - 1)) + 0.5;
        double logQ = Math.Log(q);
        double log1MinusQ = Math.Log(1 - q);
        double positive = double.NegativeInfinity;
        double negative = double.NegativeInfinity;
        double coefficient = 1;
        double logAbsCoefficient = 0;
        for (int k = 0; k < 100_000; k++)
        {
            if (k > 0)
            {
                double factor = (alpha - (k - 1)) / k;
                if (factor == 0)
                {
                    break;
                }

                coefficient = Math.Sign(coefficient) * Math.Sign(factor);
                logAbsCoefficient += Math.Log(Math.Abs(factor));
            }

            double j = alpha - k;
            double s0 = logAbsCoefficient + (k * logQ) + (j * log1MinusQ) + ((((double)k * k) - k) / (2 * variance)) + LogHalfErfc((k - z0) / (Math.Sqrt(2) * sigma));
            double s1 = logAbsCoefficient + (j * logQ) + (k * log1MinusQ) + (((j * j) - j) / (2 * variance)) + LogHalfErfc((z0 - j) / (Math.Sqrt(2) * sigma));
            if (coefficient > 0)
            {
                positive = LogAddExp(LogAddExp(positive, s0), s1);
            }
            else
            {
                negative = LogAddExp(LogAddExp(negative, s0), s1);
            }

            if (k > alpha && Math.Max(s0, s1) < -30)
            {
                break;
            }
        }

        return double.IsNegativeInfinity(negative) ? positive : positive + Math.Log(1 - Math.Exp(negative - positive));
    }

    /// <summary>log(erfc(x) / 2), accurate where erfc underflows.</summary>
    private static double LogHalfErfc(double x)
    {
        double value = SpecialFunctions.Erfc(x);
        if (value > 1e-300)
        {
            return Math.Log(value / 2);
        }

        // erfc(x) ~ exp(-x^2) / (x sqrt(pi)) (1 - 1/(2x^2) + 3/(4x^4)) for large x.
        double x2 = x * x;
        return -x2 - Math.Log(x * Math.Sqrt(Math.PI)) + Math.Log(1 - (1 / (2 * x2)) + (3 / (4 * x2 * x2))) - Math.Log(2);
    }

    /// <summary>The RDP of one application of the sampled Gaussian mechanism at integer order <paramref name="order"/>.</summary>
    /// <param name="sampleRate">q.</param>
    /// <param name="noiseMultiplier">sigma.</param>
    /// <param name="order">alpha &gt;= 2.</param>
    /// <returns>RDP(alpha).</returns>
    public static double ComputeRdp(double sampleRate, double noiseMultiplier, int order)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(order, 2);
        if (sampleRate == 0)
        {
            return 0;
        }

        double variance = noiseMultiplier * noiseMultiplier;
        if (sampleRate == 1)
        {
            return order / (2 * variance);
        }

        double logQ = Math.Log(sampleRate);
        double log1MinusQ = Math.Log(1 - sampleRate);
        double logA = double.NegativeInfinity;
        for (int k = 0; k <= order; k++)
        {
            double term = SpecialFunctions.BinomialLn(order, k) + ((order - k) * log1MinusQ) + (k * logQ) + (((double)k * k) - k) / (2 * variance);
            logA = LogAddExp(logA, term);
        }

        return logA / (order - 1);
    }

    private static double LogAddExp(double a, double b)
    {
        if (double.IsNegativeInfinity(a))
        {
            return b;
        }

        double max = Math.Max(a, b);
        return max + Math.Log(Math.Exp(a - max) + Math.Exp(b - max));
    }
}
