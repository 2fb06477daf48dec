namespace FederatedSharp.Privacy;

/// <summary>
/// Linear convolution of two non-negative real sequences by one complex FFT of both (packed as a + i b) and one
/// inverse: an iterative radix-2 Cooley–Tukey transform over split real and imaginary arrays with a precomputed
/// twiddle table.
/// </summary>
internal static class RealConvolution
{
    public static double[] Convolve(double[] a, double[] b)
    {
        int length = a.Length + b.Length - 1;
        int n = (int)System.Numerics.BitOperations.RoundUpToPowerOf2((uint)length);
        var re = new double[n];
        var im = new double[n];
        Array.Copy(a, re, a.Length);
        Array.Copy(b, im, b.Length);
        (double[] cos, double[] sin) = Twiddles(n);
        Transform(re, im, cos, sin, inverse: false);

        // Spectra of a and b from Z = FFT(a + i b): A_k = (Z_k + conj Z_-k) / 2, B_k = (Z_k - conj Z_-k) / 2i; then C = A B.
        var cre = new double[n];
        var cim = new double[n];
        for (int k = 0; k < n; k++)
        {
            int m = (n - k) & (n - 1);
            double ar = (re[k] + re[m]) / 2, ai = (im[k] - im[m]) / 2;
            double br = (im[k] + im[m]) / 2, bi = -(re[k] - re[m]) / 2;
            cre[k] = (ar * br) - (ai * bi);
            cim[k] = (ar * bi) + (ai * br);
        }

        Transform(cre, cim, cos, sin, inverse: true);
        var result = new double[length];
        for (int i = 0; i < length; i++)
        {
            result[i] = Math.Max(0, cre[i] / n);
        }

        return result;
    }

    private static (double[] Cos, double[] Sin) Twiddles(int n)
    {
        var cos = new double[n / 2];
        var sin = new double[n / 2];
        for (int k = 0; k < n / 2; k++)
        {
            double angle = -2 * Math.PI * k / n;
            cos[k] = Math.Cos(angle);
            sin[k] = Math.Sin(angle);
        }

        return (cos, sin);
    }

    private static void Transform(double[] re, double[] im, double[] cos, double[] sin, bool inverse)
    {
        int n = re.Length;
        for (int i = 1, j = 0; i < n; i++)
        {
            int bit = n >> 1;
            for (; (j & bit) != 0; bit >>= 1)
            {
                j ^= bit;
            }

            j ^= bit;
            if (i < j)
            {
                (re[i], re[j]) = (re[j], re[i]);
                (im[i], im[j]) = (im[j], im[i]);
            }
        }

        double sign = inverse ? -1 : 1;
        for (int len = 2; len <= n; len <<= 1)
        {
            int half = len >> 1;
            int step = n / len;
            for (int start = 0; start < n; start += len)
            {
                for (int k = 0; k < half; k++)
                {
                    double wr = cos[k * step];
                    double wi = sign * sin[k * step];
                    int p = start + k;
                    int q = p + half;
                    double tr = (re[q] * wr) - (im[q] * wi);
                    double ti = (re[q] * wi) + (im[q] * wr);
                    re[q] = re[p] - tr;
                    im[q] = im[p] - ti;
                    re[p] += tr;
                    im[p] += ti;
                }
            }
        }
    }
}
