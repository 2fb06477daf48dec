using MathNet.Numerics;

namespace FederatedSharp.Privacy;

/// <summary>
/// Rényi-DP accountant of the sampled Gaussian mechanism (Mironov 2017, "Rényi Differential Privacy"; Mironov, Talwar,
/// Zhang 2019, "Rényi Differential Privacy of the Sampled Gaussian Mechanism"): the privacy of <c>steps</c>
/// compositions of a Gaussian mechanism with noise multiplier sigma applied to a Poisson sample of rate q, converted
/// to (epsilon, delta). Integer orders use the exact binomial expansion
/// <c>A_a = sum_k C(a,k) (1-q)^(a-k) q^k exp((k^2 - k) / (2 sigma^2))</c>, <c>RDP(a) = log(A_a) / (a - 1)</c>, computed in
/// log space (MathNet's log-binomial); conversion is <c>epsilon = min_a steps RDP(a) + log(1/delta) / (a - 1)</c>.
/// </summary>
public sealed class RdpAccountant
{
    /// <summary>The default orders: 2 to 64, 80, 96, 128, 256, 512.</summary>
    public static IReadOnlyList<int> DefaultOrders { get; } = Enumerable.Range(2, 63).Concat(new[] { 80, 96, 128, 256, 512 }).ToArray();

    private readonly List<(double SampleRate, double NoiseMultiplier, long Steps)> _history = new();

    /// <summary>Records <paramref name="steps"/> applications of the sampled Gaussian mechanism.</summary>
    /// <param name="sampleRate">q, the probability that a participant is in a step's sample, in [0, 1].</param>
    /// <param name="noiseMultiplier">sigma, the noise standard deviation divided by the sensitivity (&gt; 0).</param>
    /// <param name="steps">How many steps.</param>
    /// <exception cref="ArgumentOutOfRangeException">An argument is out of range.</exception>
    public void Step(double sampleRate, double noiseMultiplier, long steps = 1)
    {
        if (!(sampleRate >= 0 && sampleRate <= 1))
        {
            throw new ArgumentOutOfRangeException(nameof(sampleRate), sampleRate, "The sample rate must lie in [0, 1].");
        }

        if (!(noiseMultiplier > 0) || !double.IsFinite(noiseMultiplier))
        {
            throw new ArgumentOutOfRangeException(nameof(noiseMultiplier), noiseMultiplier, "The noise multiplier must be a finite number > 0.");
        }

        ArgumentOutOfRangeException.ThrowIfNegative(steps);
        _history.Add((sampleRate, noiseMultiplier, steps));
    }

    /// <summary>The smallest epsilon over <paramref name="orders"/> for <paramref name="delta"/>, and the order reaching it.</summary>
    /// <param name="delta">Target delta in (0, 1).</param>
    /// <param name="orders">RDP orders (integers &gt;= 2); null for <see cref="DefaultOrders"/>.</param>
    /// <returns>Epsilon and the best order.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="delta"/> is outside (0, 1) or an order is below 2.</exception>
    public (double Epsilon, int Order) GetPrivacySpent(double delta, IEnumerable<int>? orders = null)
    {
        if (!(delta > 0 && delta < 1))
        {
            throw new ArgumentOutOfRangeException(nameof(delta), delta, "Delta must lie in (0, 1).");
        }

        double best = double.PositiveInfinity;
        int bestOrder = 0;
        foreach (int order in orders ?? DefaultOrders)
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(order, 2, nameof(orders));
            double rdp = _history.Sum(h => h.Steps * ComputeRdp(h.SampleRate, h.NoiseMultiplier, order));
            double epsilon = rdp + (Math.Log(1 / delta) / (order - 1));
            if (epsilon < best)
            {
                best = epsilon;
                bestOrder = order;
            }
        }

        return (best, bestOrder);
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
