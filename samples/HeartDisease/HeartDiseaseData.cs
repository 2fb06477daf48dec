using System.Globalization;

namespace HeartDisease;

/// <summary>One hospital's preprocessed data: 13 standardised features and a binary label per patient.</summary>
public sealed record Centre(int Index, string Name, float[] TrainFeatures, float[] TrainLabels, float[] TestFeatures, float[] TestLabels)
{
    public int TrainCount => TrainLabels.Length;

    public int TestCount => TestLabels.Length;
}

/// <summary>All four centres plus FLamby's pooled test set (every test row, standardised with the statistics of all train rows together).</summary>
public sealed record HeartDiseaseDataSet(IReadOnlyList<Centre> Centres, float[] PooledTestFeatures, float[] PooledTestLabels, float[] PooledTrainFeatures, float[] PooledTrainLabels);

/// <summary>
/// Loads FLamby's Fed-Heart-Disease: the four UCI "processed" files, FLamby's preprocessing (drop slope/ca/thal, drop
/// rows with missing values, binary label, one-hot cp and restecg with the first level dropped, per-centre
/// z-scoring with the centre's train statistics) and the train/test split of flamby_split_reproduced.csv.
/// </summary>
public static class HeartDiseaseData
{
    public const int FeatureCount = 13;

    public static readonly string[] CentreNames = { "Cleveland", "Hungary", "Switzerland", "VA Long Beach" };

    private static readonly string[] Files =
    {
        "processed.cleveland.data", "processed.hungarian.data", "processed.switzerland.data", "processed.va.data",
    };

    /// <summary>The folder holding the data files (next to the executable).</summary>
    public static string DefaultDirectory => Path.Combine(AppContext.BaseDirectory, "data");

    public static HeartDiseaseDataSet Load(string? directory = null)
    {
        var allTrain = new List<double[]>();
        var allTest = new List<double[]>();
        var allTestLabels = new List<float>();
        var allTrainLabels = new List<float>();
        directory ??= DefaultDirectory;
        Dictionary<(int Centre, int RawLine), string> split = LoadSplit(Path.Combine(directory, "flamby_split_reproduced.csv"));
        var centres = new List<Centre>();
        for (int c = 0; c < Files.Length; c++)
        {
            var trainX = new List<double[]>();
            var trainY = new List<float>();
            var testX = new List<double[]>();
            var testY = new List<float>();
            string[] lines = File.ReadAllLines(Path.Combine(directory, Files[c]));
            for (int line = 0; line < lines.Length; line++)
            {
                string[] cells = lines[line].Split(',');
                if (cells.Length != 14)
                {
                    throw new InvalidDataException($"{Files[c]} line {line + 1}: expected 14 columns, got {cells.Length}.");
                }

                // Columns 10, 11, 12 (slope, ca, thal) are dropped before rows with missing values are.
                int[] kept = { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 13 };
                if (kept.Any(k => cells[k].Trim() == "?"))
                {
                    continue;
                }

                double[] v = kept.Select(k => double.Parse(cells[k], CultureInfo.InvariantCulture)).ToArray();
                double[] features = Encode(v);
                float label = v[10] > 0 ? 1f : 0f;
                if (!split.TryGetValue((c, line + 1), out string? set))
                {
                    throw new InvalidDataException($"{Files[c]} line {line + 1} is missing from the split file.");
                }

                (set == "train" ? trainX : testX).Add(features);
                (set == "train" ? trainY : testY).Add(label);
            }

            (double[] mean, double[] std) = Statistics(trainX);
            centres.Add(new Centre(c, CentreNames[c], Standardise(trainX, mean, std), trainY.ToArray(), Standardise(testX, mean, std), testY.ToArray()));
            allTrain.AddRange(trainX);
            allTrainLabels.AddRange(trainY);
            allTest.AddRange(testX);
            allTestLabels.AddRange(testY);
        }

        (double[] pooledMean, double[] pooledStd) = Statistics(allTrain);
        return new HeartDiseaseDataSet(centres, Standardise(allTest, pooledMean, pooledStd), allTestLabels.ToArray(),
            Standardise(allTrain, pooledMean, pooledStd), allTrainLabels.ToArray());
    }

    // age, sex, trestbps, chol, fbs, thalach, exang, oldpeak, cp_2, cp_3, cp_4, restecg_1, restecg_2
    private static double[] Encode(double[] v)
    {
        double cp = v[2];
        double restecg = v[6];
        return new[]
        {
            v[0], v[1], v[3], v[4], v[5], v[7], v[8], v[9],
            cp == 2 ? 1 : 0, cp == 3 ? 1 : 0, cp == 4 ? 1 : 0,
            restecg == 1 ? 1 : 0, restecg == 2 ? 1 : 0,
        };
    }

    private static (double[] Mean, double[] Std) Statistics(List<double[]> rows)
    {
        var mean = new double[FeatureCount];
        var std = new double[FeatureCount];
        for (int f = 0; f < FeatureCount; f++)
        {
            mean[f] = rows.Average(r => r[f]);
            double ss = rows.Sum(r => (r[f] - mean[f]) * (r[f] - mean[f]));
            std[f] = Math.Sqrt(ss / (rows.Count - 1)); // pandas' sample standard deviation
        }

        return (mean, std);
    }

    private static float[] Standardise(List<double[]> rows, double[] mean, double[] std)
    {
        var result = new float[rows.Count * FeatureCount];
        for (int r = 0; r < rows.Count; r++)
        {
            for (int f = 0; f < FeatureCount; f++)
            {
                result[(r * FeatureCount) + f] = (float)((rows[r][f] - mean[f]) / (std[f] + 1e-9));
            }
        }

        return result;
    }

    private static Dictionary<(int, int), string> LoadSplit(string path)
    {
        var split = new Dictionary<(int, int), string>();
        foreach (string line in File.ReadLines(path).Skip(1))
        {
            string[] cells = line.Split(',');
            split[(int.Parse(cells[0], CultureInfo.InvariantCulture), int.Parse(cells[2], CultureInfo.InvariantCulture))] = cells[4];
        }

        return split;
    }
}
