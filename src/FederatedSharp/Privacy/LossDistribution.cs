namespace FederatedSharp.Privacy;

/// <summary>
/// A discretised privacy loss distribution: mass[i] at loss (offset + i) h, plus the mass at infinite loss. Convolution
/// composes two mechanisms; truncation folds at most the tail mass: the top into infinity, the bottom up onto the
/// lowest kept point, so every approximation over-states the loss.
/// </summary>
internal sealed class LossDistribution
{
    public LossDistribution(double h, long offset, double[] mass, double infinity)
    {
        H = h;
        Offset = offset;
        Mass = mass;
        Infinity = infinity;
    }

    public double H { get; }

    public long Offset { get; }

    public double[] Mass { get; }

    public double Infinity { get; }

    public static LossDistribution Identity(double h) => new(h, 0, new[] { 1.0 }, 0);

    public LossDistribution Power(long count, double tailMass)
    {
        LossDistribution result = Identity(H);
        LossDistribution square = this;
        while (count > 0)
        {
            if ((count & 1) == 1)
            {
                result = result.Convolve(square, tailMass);
            }

            count >>= 1;
            if (count > 0)
            {
                square = square.Convolve(square, tailMass);
            }
        }

        return result;
    }

    public LossDistribution Convolve(LossDistribution other, double tailMass)
    {
        if (other.Mass.Length == 1 && other.Infinity == 0 && Mass.Length > 1)
        {
            return new LossDistribution(H, Offset + other.Offset, (double[])Mass.Clone(), Infinity).Scale(other.Mass[0]);
        }

        if (Mass.Length == 1 && Infinity == 0)
        {
            return other.Convolve(this, tailMass);
        }

        double[] mass = Mass.Length * (long)other.Mass.Length < 4096 ? Direct(Mass, other.Mass) : RealConvolution.Convolve(Mass, other.Mass);
        double infinity = 1 - ((1 - Infinity) * (1 - other.Infinity));
        return Truncate(Offset + other.Offset, mass, infinity, tailMass);
    }

    /// <summary>delta(epsilon) = P[inf] + sum over l &gt; epsilon of p (1 - e^(epsilon - l)).</summary>
    public double Delta(double epsilon)
    {
        double delta = Infinity;
        for (int i = Mass.Length - 1; i >= 0; i--)
        {
            double loss = (Offset + i) * H;
            if (loss <= epsilon)
            {
                break;
            }

            delta += Mass[i] * -double.ExpM1(epsilon - loss);
        }

        return Math.Min(1, delta);
    }

    /// <summary>The smallest epsilon &gt;= 0 with delta(epsilon) &lt;= delta: walking down the grid, on [l_(i-1), l_i) delta(eps) = inf + A - e^eps B.</summary>
    public double Epsilon(double delta)
    {
        if (Infinity > delta)
        {
            return double.PositiveInfinity;
        }

        double a = 0;
        double b = 0;
        for (int i = Mass.Length - 1; i >= 0; i--)
        {
            double loss = (Offset + i) * H;
            double below = i > 0 ? (Offset + i - 1) * H : double.NegativeInfinity;
            a += Mass[i];
            b += Mass[i] * Math.Exp(-loss);
            if (loss <= 0)
            {
                return 0;
            }

            // For epsilon in [max(below, 0), loss): delta(epsilon) = Infinity + a - e^epsilon b, decreasing in epsilon.
            double lower = Math.Max(below, 0);
            if (Infinity + a - (Math.Exp(lower) * b) > delta)
            {
                double epsilon = Math.Log((Infinity + a - delta) / b);
                return Math.Max(lower, Math.Min(epsilon, loss));
            }
        }

        return 0;
    }

    private static double[] Direct(double[] a, double[] b)
    {
        var result = new double[a.Length + b.Length - 1];
        for (int i = 0; i < a.Length; i++)
        {
            for (int j = 0; j < b.Length; j++)
            {
                result[i + j] += a[i] * b[j];
            }
        }

        return result;
    }

    private LossDistribution Scale(double factor)
    {
        for (int i = 0; i < Mass.Length; i++)
        {
            Mass[i] *= factor;
        }

        return this;
    }

    private LossDistribution Truncate(long offset, double[] mass, double infinity, double tailMass)
    {
        int top = mass.Length - 1;
        double folded = 0;
        while (top > 0 && folded + mass[top] < tailMass / 2)
        {
            folded += mass[top--];
        }

        int bottom = 0;
        double lifted = 0;
        while (bottom < top && lifted + mass[bottom] < tailMass / 2)
        {
            lifted += mass[bottom++];
        }

        var kept = new double[top - bottom + 1];
        Array.Copy(mass, bottom, kept, 0, kept.Length);
        kept[0] += lifted;
        return new LossDistribution(H, offset + bottom, kept, infinity + folded);
    }
}
