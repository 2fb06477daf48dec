using FederatedSharp.Aggregation.Kernels;
using FederatedSharp.Clients;
using FederatedSharp.Parameters;

namespace FederatedSharp.Aggregation;

/// <summary>
/// Krum and Multi-Krum (Blanchard et al. 2017, "Machine Learning with Adversaries: Byzantine Tolerant Gradient
/// Descent"). Each update is scored by the sum of squared distances to its <c>n - f - 2</c> nearest other updates
/// (f = <see cref="ByzantineClients"/>); Krum returns the lowest-scoring update, Multi-Krum (<see cref="ClientsToKeep"/>
/// m &gt; 0) the example-weighted mean of the m lowest (Flower's <c>num_malicious_clients</c>,
/// <c>num_clients_to_keep</c>; defaults 0 and 0). Needs n &gt; f + 2 updates. Memory: clients x model (holds
/// every update, without copies); the O(clients^2 x model) distances are computed in cache-sized blocks on all cores.
/// </summary>
public sealed class Krum : IAggregator
{
    /// <summary>Creates the strategy.</summary>
    /// <param name="byzantineClients">f, the number of malicious clients tolerated.</param>
    /// <param name="clientsToKeep">m; 0 for Krum, m &gt; 0 for Multi-Krum.</param>
    /// <exception cref="ArgumentOutOfRangeException">A count is negative.</exception>
    public Krum(int byzantineClients = 0, int clientsToKeep = 0)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(byzantineClients);
        ArgumentOutOfRangeException.ThrowIfNegative(clientsToKeep);
        ByzantineClients = byzantineClients;
        ClientsToKeep = clientsToKeep;
    }

    /// <summary>f.</summary>
    public int ByzantineClients { get; }

    /// <summary>m (0 for plain Krum).</summary>
    public int ClientsToKeep { get; }

    /// <inheritdoc />
    public string Name => ClientsToKeep > 0 ? "MultiKrum" : "Krum";

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
            int[] chosen = Select(updates.Select(u => u.Values).ToArray(), layout.TotalLength, ByzantineClients, Math.Max(1, ClientsToKeep));
            return WeightedMean(chosen.Select(i => updates[i]).ToArray(), layout);
        });
    }

    /// <summary>Indices of the <paramref name="keep"/> updates with the lowest Krum scores (ties by index).</summary>
    internal static int[] Select(IReadOnlyList<ReadOnlyMemory<float>> values, int length, int byzantine, int keep)
    {
        int n = values.Count;
        if (n <= byzantine + 2)
        {
            throw new InvalidOperationException($"Krum with f = {byzantine} needs more than f + 2 = {byzantine + 2} updates; got {n}.");
        }

        double[,] distances = RobustKernels.PairwiseSquaredDistances(values, length);
        int[] all = Enumerable.Range(0, n).ToArray();
        double[] scores = RobustKernels.KrumScores(distances, all, n - byzantine - 2);
        return all.OrderBy(i => scores[i]).ThenBy(i => i).Take(Math.Min(keep, n)).ToArray();
    }

    internal static ModelParameters WeightedMean(IReadOnlyList<BufferedUpdate> chosen, TensorLayout layout)
    {
        // One pass that writes the result without clearing it first: the sums of clearing it and multiply-adding each
        // update in turn, but for the sign of a zero (-0 stays -0 instead of becoming 0 + -0 = +0).
        ModelParameters result = ModelParameters.CreateUninitialized(layout);
        double total = chosen.Sum(u => (double)u.ExampleCount);
        float[] weights = chosen.Select(u => (float)(u.ExampleCount / total)).ToArray();
        AggregationKernels.WeightedSum(chosen.Select(u => u.Values).ToArray(), weights, result.Memory, overwrite: true);
        return result;
    }
}
