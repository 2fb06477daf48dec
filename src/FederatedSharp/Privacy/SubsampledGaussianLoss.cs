using MathNet.Numerics.Distributions;

namespace FederatedSharp.Privacy;

/// <summary>
/// The privacy loss of one Poisson-subsampled Gaussian step (sensitivity 1, noise sigma, rate q), per direction:
/// removal compares P = (1-q) N(0, s^2) + q N(1, s^2) with Q = N(0, s^2), x ~ P, L(x) = log(1 - q + q e^t) with
/// t = (2x - 1) / (2 s^2), increasing in x; addition swaps them, x ~ N(0, s^2), L(x) = -log(1 - q + q e^t), decreasing.
/// Both are inverted in closed form, so the loss CDF is exact up to the normal CDF.
/// </summary>
internal sealed class SubsampledGaussianLoss
{
    private readonly double _q;
    private readonly double _sigma;
    private readonly double _log1MinusQ;

    public SubsampledGaussianLoss(double q, double sigma)
    {
        _q = q;
        _sigma = sigma;
        _log1MinusQ = q < 1 ? Math.Log(1 - q) : double.NegativeInfinity;
    }

    public LossDistribution Discretize(bool removal, double h, double tailMass)
    {
        double z = -Normal.InvCDF(0, 1, tailMass / 4);
        double lossA = Loss(removal, -z * _sigma);
        double lossB = Loss(removal, (removal ? 1 : 0) + (z * _sigma));
        double low = Math.Min(lossA, lossB);
        double high = Math.Max(lossA, lossB);
        if (!((high - low) / h < 50_000_000))
        {
            throw new ArgumentOutOfRangeException(nameof(h), $"The privacy loss of sigma {_sigma}, q {_q} spans [{low:G4}, {high:G4}]: too many grid points at width {h}; use a coarser discretization.");
        }

        long first = (long)Math.Floor(low / h);
        long last = (long)Math.Ceiling(high / h);

        var mass = new double[last - first + 1];
        double previous = Cdf(removal, first * h);
        mass[0] = previous;
        for (long i = first + 1; i <= last; i++)
        {
            double current = Cdf(removal, i * h);
            mass[i - first] = Math.Max(0, current - previous);
            previous = current;
        }

        double infinity = Math.Max(0, 1 - mass.Sum());
        return new LossDistribution(h, first, mass, infinity);
    }

    /// <summary>The privacy loss at x.</summary>
    private double Loss(bool removal, double x)
    {
        double t = ((2 * x) - 1) / (2 * _sigma * _sigma);
        double log = _q >= 1 ? t
            : t > 0 ? t + Math.Log(_q + ((1 - _q) * Math.Exp(-t)))
            : Math.Log((1 - _q) + (_q * Math.Exp(t)));
        return removal ? log : -log;
    }

    /// <summary>P(L &lt;= l) under the direction's distribution of x.</summary>
    private double Cdf(bool removal, double l)
    {
        double u = removal ? l : -l;
        if (u <= _log1MinusQ)
        {
            // Removal: L never goes below log(1 - q). Addition: L never reaches -log(1 - q).
            return removal ? 0 : 1;
        }

        double x = (_sigma * _sigma * InverseLog(u)) + 0.5;
        if (removal)
        {
            // x ~ (1 - q) N(0, s^2) + q N(1, s^2), L increasing: P(L <= l) = P(x <= x(l)).
            return ((1 - _q) * Normal.CDF(0, _sigma, x)) + (_q * Normal.CDF(1, _sigma, x));
        }

        // x ~ N(0, s^2), L decreasing: P(L <= l) = P(x >= x(l)).
        return Normal.CDF(0, _sigma, -x);
    }

    /// <summary>t such that log(1 - q + q e^t) = u, for u &gt; log(1 - q).</summary>
    private double InverseLog(double u)
    {
        if (_q >= 1)
        {
            return u;
        }

        double gap = u - _log1MinusQ;
        return gap > 30
            ? u - Math.Log(_q) + double.LogP1(-(1 - _q) * Math.Exp(-u))
            : _log1MinusQ + Math.Log(double.ExpM1(gap)) - Math.Log(_q);
    }
}
