using System.Globalization;

namespace HeartDisease;

/// <summary>FLamby's published Fed-Heart-Disease figures (data/flamby_benchmark_summary.csv: means over 5 seeds).</summary>
public sealed record FlambyFigures(string Method, double PerCentreMean, double PerCentreStd, double PooledMean, double PooledStd, double[] CentreMeans)
{
    public static FlambyFigures Load(string method, string? directory = null)
    {
        string path = Path.Combine(directory ?? HeartDiseaseData.DefaultDirectory, "flamby_benchmark_summary.csv");
        foreach (string line in File.ReadLines(path).Skip(1))
        {
            string[] c = line.Split(',');
            if (c[0] == method)
            {
                double P(int i) => double.Parse(c[i], CultureInfo.InvariantCulture);
                return new FlambyFigures(method, P(1), P(2), P(3), P(4), new[] { P(5), P(6), P(7), P(8) });
            }
        }

        throw new InvalidDataException($"FLamby's summary has no row '{method}'.");
    }
}
