using MathNet.Numerics.Distributions;
using MathNet.Numerics.LinearAlgebra;

namespace FederatedSharp.Analytics;

/// <summary>
/// Numbers at risk, events and censorings on a time grid, merged over sites' survival replies. A site's number at risk
/// at time t is its count minus its events and censorings before t; from its <c>WithheldFrom</c> time on it is 0 (its
/// withheld tail leaves the risk set there).
/// </summary>
internal sealed class RiskTable
{
    private RiskTable(double[] times, double[] atRisk, double[] events, double[] censored)
    {
        Times = times;
        AtRisk = atRisk;
        Events = events;
        Censored = censored;
    }

    public double[] Times { get; }

    public double[] AtRisk { get; }

    public double[] Events { get; }

    public double[] Censored { get; }

    public static double[] Grid(IEnumerable<SurvivalGroupReply> replies) =>
        replies.SelectMany(r => r.Times).Distinct().Order().ToArray();

    public static RiskTable Merge(IReadOnlyList<SurvivalGroupReply> replies, double[] grid)
    {
        var atRisk = new double[grid.Length];
        var events = new double[grid.Length];
        var censored = new double[grid.Length];
        foreach (SurvivalGroupReply reply in replies)
        {
            if (reply.Count is not double count || reply.Times.Length != reply.Events.Length || reply.Times.Length != reply.Censored.Length)
            {
                continue;
            }

            double left = count;
            int row = 0;
            for (int i = 0; i < grid.Length; i++)
            {
                double t = grid[i];
                if (reply.WithheldFrom is double stop && t >= stop)
                {
                    break;
                }

                atRisk[i] += Math.Max(left, 0);
                if (row < reply.Times.Length && reply.Times[row] == t)
                {
                    events[i] += Math.Max(reply.Events[row], 0);
                    censored[i] += Math.Max(reply.Censored[row], 0);
                    left -= reply.Events[row] + reply.Censored[row];
                    row++;
                }
            }
        }

        return new RiskTable(grid, atRisk, events, censored);
    }

    public KaplanMeierCurve KaplanMeier(string group, double count, IReadOnlyList<string> truncated)
    {
        var points = new List<KaplanMeierPoint>();
        double survival = 1;
        double greenwood = 0;
        for (int i = 0; i < Times.Length; i++)
        {
            double n = AtRisk[i];
            double d = Math.Min(Events[i], n);
            if (n <= 0)
            {
                continue;
            }

            survival *= 1 - (d / n);
            if (n > d)
            {
                greenwood += d / (n * (n - d));
            }

            points.Add(new KaplanMeierPoint(Times[i], n, d, Censored[i], survival, survival * Math.Sqrt(greenwood)));
        }

        return new KaplanMeierCurve(group, points, count, truncated);
    }

    /// <summary>The log-rank test over groups' tables on one grid (the hypergeometric variance, k - 1 free groups).</summary>
    public static LogRankResult LogRank(IReadOnlyList<string> labels, IReadOnlyList<RiskTable> groups)
    {
        int g = groups.Count;
        var observed = new double[g];
        var expected = new double[g];
        Matrix<double> variance = Matrix<double>.Build.Dense(g, g);
        for (int i = 0; i < groups[0].Times.Length; i++)
        {
            double n = groups.Sum(t => t.AtRisk[i]);
            double d = groups.Sum(t => Math.Min(t.Events[i], t.AtRisk[i]));
            if (n <= 0 || d <= 0)
            {
                continue;
            }

            double spread = n > 1 ? d * (n - d) / (n - 1) : 0;
            for (int a = 0; a < g; a++)
            {
                double na = groups[a].AtRisk[i];
                observed[a] += Math.Min(groups[a].Events[i], na);
                expected[a] += na * d / n;
                for (int b = 0; b < g; b++)
                {
                    double nb = groups[b].AtRisk[i];
                    variance[a, b] += spread * (na / n) * ((a == b ? 1 : 0) - (nb / n));
                }
            }
        }

        int df = g - 1;
        Vector<double> difference = Vector<double>.Build.Dense(df, a => observed[a] - expected[a]);
        Matrix<double> v = variance.SubMatrix(0, df, 0, df);
        double chi = difference.DotProduct(v.Solve(difference));
        return new LogRankResult(labels, observed, expected, chi, df, 1 - ChiSquared.CDF(df, chi));
    }
}
