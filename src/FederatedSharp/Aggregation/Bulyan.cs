using FederatedSharp.Aggregation.Kernels;
using FederatedSharp.Clients;
using FederatedSharp.Parameters;

namespace FederatedSharp.Aggregation;

/// <summary>
/// Bulyan (El Mhamdi et al. 2018, "The Hidden Vulnerability of Distributed Learning in Byzantium"). With n updates
/// and f Byzantine clients (n &gt;= 4f + 3 is required and checked): Krum is applied repeatedly to pick a selection
/// set of <c>theta = n - 2f</c> updates; then, per coordinate, the <c>beta = theta - 2f</c> values closest to the
/// coordinate's median are averaged. Memory: O(clients x model); time O(clients^3 x model) for the repeated Krum in
/// the worst case (distances are computed once).
/// </summary>
public sealed class Bulyan : IAggregator
{
    /// <summary>Creates the strategy.</summary>
    /// <param name="byzantineClients">f, the number of malicious clients tolerated (Flower's <c>num_malicious_clients</c>).</param>
    /// <exception cref="ArgumentOutOfRangeException">f is negative.</exception>
    public Bulyan(int byzantineClients = 0)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(byzantineClients);
        ByzantineClients = byzantineClients;
    }

    /// <summary>f.</summary>
    public int ByzantineClients { get; }

    /// <inheritdoc />
    public string Name => "Bulyan";

    /// <inheritdoc />
    public void ConfigureFit(int round, ConfigRecord config)
    {
    }

    /// <inheritdoc />
    public IRoundAggregator BeginRound(ModelParameters globalParameters, AggregationContext context)
    {
        ArgumentNullException.ThrowIfNull(globalParameters);
        return new BufferedRound(globalParameters.Layout, (updates, layout) =>
        {
            float[][] values = updates.Select(u => u.Values).ToArray();
            float[][] selected = SelectionSet(values, ByzantineClients).Select(i => values[i]).ToArray();
            ModelParameters result = ModelParameters.CreateUninitialized(layout);
            ClosestToMedianMean(selected, selected.Length - (2 * ByzantineClients), result.Values);
            return result;
        });
    }

    internal static List<int> SelectionSet(float[][] values, int byzantine)
    {
        int n = values.Length;
        if (n < (4 * byzantine) + 3)
        {
            throw new InvalidOperationException($"Bulyan with f = {byzantine} needs n >= 4f + 3 = {(4 * byzantine) + 3} updates; got {n}.");
        }

        double[,] distances = RobustKernels.PairwiseSquaredDistances(values);
        var remaining = Enumerable.Range(0, n).ToList();
        var selection = new List<int>();
        int theta = n - (2 * byzantine);
        while (selection.Count < theta)
        {
            // Krum over the remaining updates; with fewer than f + 3 left, every remaining one scores on what is there.
            int neighbours = Math.Max(1, remaining.Count - byzantine - 2);
            double[] scores = RobustKernels.KrumScores(distances, remaining, neighbours);
            int best = Enumerable.Range(0, remaining.Count).OrderBy(c => scores[c]).ThenBy(c => remaining[c]).First();
            selection.Add(remaining[best]);
            remaining.RemoveAt(best);
        }

        return selection;
    }

    internal static void ClosestToMedianMean(float[][] selected, int beta, Span<float> destination)
    {
        int theta = selected.Length;
        float[] median = new float[destination.Length];
        RobustKernels.Median(selected, median);
        float[] result = new float[destination.Length];
        Parallel.For(0, (destination.Length + 4095) / 4096, () => new float[theta], (block, _, column) =>
        {
            int start = block * 4096;
            int end = Math.Min(result.Length, start + 4096);
            for (int p = start; p < end; p++)
            {
                for (int k = 0; k < theta; k++)
                {
                    column[k] = selected[k][p];
                }

                float m = median[p];
                Array.Sort(column, (a, b) => Math.Abs(a - m).CompareTo(Math.Abs(b - m)) is var c && c != 0 ? c : a.CompareTo(b));
                double sum = 0;
                for (int k = 0; k < beta; k++)
                {
                    sum += column[k];
                }

                result[p] = (float)(sum / beta);
            }

            return column;
        }, _ => { });
        result.CopyTo(destination);
    }
}
