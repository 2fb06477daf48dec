namespace FederatedSharp.Tests.TestUtilities;

/// <summary>Straightforward scalar double-precision versions of every strategy, the oracle for the SIMD code.</summary>
public static class ReferenceAggregation
{
    public static double[] WeightedMean(IReadOnlyList<(double[] X, long N)> updates)
    {
        int p = updates[0].X.Length;
        double total = updates.Sum(u => (double)u.N);
        var r = new double[p];
        foreach ((double[] x, long n) in updates)
        {
            for (int i = 0; i < p; i++)
            {
                r[i] += n * x[i] / total;
            }
        }

        return r;
    }

    public static double[] Median(IReadOnlyList<double[]> xs) => CoordinateWise(xs, c =>
        c.Length % 2 == 1 ? c[c.Length / 2] : (c[(c.Length / 2) - 1] + c[c.Length / 2]) / 2);

    public static double[] TrimmedMean(IReadOnlyList<double[]> xs, double beta)
    {
        int cut = (int)(beta * xs.Count);
        return CoordinateWise(xs, c => c.Skip(cut).Take(c.Length - (2 * cut)).Average());
    }

    public static double SquaredDistance(double[] a, double[] b) => a.Zip(b, (x, y) => (x - y) * (x - y)).Sum();

    public static int[] KrumOrder(IReadOnlyList<double[]> xs, IReadOnlyList<int> candidates, int f)
    {
        int neighbours = Math.Max(1, candidates.Count - f - 2);
        double Score(int i) => candidates.Where(j => j != i).Select(j => SquaredDistance(xs[i], xs[j])).OrderBy(d => d).Take(neighbours).Sum();
        return candidates.OrderBy(Score).ThenBy(i => i).ToArray();
    }

    public static double[] Bulyan(IReadOnlyList<double[]> xs, int f)
    {
        var remaining = Enumerable.Range(0, xs.Count).ToList();
        var selected = new List<double[]>();
        while (selected.Count < xs.Count - (2 * f))
        {
            int best = KrumOrder(xs, remaining, f)[0];
            selected.Add(xs[best]);
            remaining.Remove(best);
        }

        int beta = selected.Count - (2 * f);
        double[] median = Median(selected);
        var r = new double[xs[0].Length];
        for (int p = 0; p < r.Length; p++)
        {
            r[p] = selected.Select(s => s[p]).OrderBy(v => Math.Abs(v - median[p])).ThenBy(v => v).Take(beta).Average();
        }

        return r;
    }

    private static double[] CoordinateWise(IReadOnlyList<double[]> xs, Func<double[], double> statistic)
    {
        var r = new double[xs[0].Length];
        for (int p = 0; p < r.Length; p++)
        {
            double[] column = xs.Select(x => x[p]).OrderBy(v => v).ToArray();
            r[p] = statistic(column);
        }

        return r;
    }
}
