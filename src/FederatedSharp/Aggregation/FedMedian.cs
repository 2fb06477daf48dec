using FederatedSharp.Aggregation.Kernels;
using FederatedSharp.Clients;
using FederatedSharp.Parameters;

namespace FederatedSharp.Aggregation;

/// <summary>
/// Coordinate-wise median (Yin et al. 2018, "Byzantine-Robust Distributed Learning: Towards Optimal Statistical
/// Rates"): each parameter of the new model is the median of the clients' values (unweighted; the mean of the two
/// middle values for an even count). Robust to a minority of arbitrary updates. Memory: clients x model (holds every
/// update, without copies); each coordinate's values are sorted across SIMD lanes by a sorting network.
/// </summary>
public sealed class FedMedian : IAggregator
{
    /// <inheritdoc />
    public string Name => "FedMedian";

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
            ModelParameters result = ModelParameters.CreateUninitialized(layout);
            OrderStatistics.Median(updates.Select(u => u.Values).ToArray(), result.Memory);
            return result;
        });
    }
}
