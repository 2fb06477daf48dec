using FederatedSharp.Aggregation.Kernels;
using FederatedSharp.Clients;
using FederatedSharp.Parameters;

namespace FederatedSharp.Aggregation;

/// <summary>
/// Bulyan (El Mhamdi et al. 2018, "The Hidden Vulnerability of Distributed Learning in Byzantium"). With n updates
/// and f Byzantine clients (n &gt;= 4f + 3 is required and checked): Krum is applied repeatedly to pick a selection
/// set of <c>theta = n - 2f</c> updates; then, per coordinate, the <c>beta = theta - 2f</c> values closest to the
/// coordinate's median are averaged (the closest values form a run of ranks; of two equally far, the smaller is taken).
/// The updates are held without copies (memory: clients x model); distances come once from a blocked Gram matrix and the
/// coordinate-wise step sorts all coordinates' values across SIMD lanes (see the aggregation benchmarks).
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
            ReadOnlyMemory<float>[] values = updates.Select(u => u.Values).ToArray();
            ReadOnlyMemory<float>[] selected = SelectionSet(values, layout.TotalLength, ByzantineClients).Select(i => values[i]).ToArray();
            ModelParameters result = ModelParameters.CreateUninitialized(layout);
            OrderStatistics.ClosestToMedianMean(selected, selected.Length - (2 * ByzantineClients), result.Memory);
            return result;
        });
    }

    internal static List<int> SelectionSet(IReadOnlyList<ReadOnlyMemory<float>> values, int length, int byzantine)
    {
        int n = values.Count;
        if (n < (4 * byzantine) + 3)
        {
            throw new InvalidOperationException($"Bulyan with f = {byzantine} needs n >= 4f + 3 = {(4 * byzantine) + 3} updates; got {n}.");
        }

        double[,] distances = RobustKernels.PairwiseSquaredDistances(values, length);
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
}
