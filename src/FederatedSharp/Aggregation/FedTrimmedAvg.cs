using FederatedSharp.Aggregation.Kernels;
using FederatedSharp.Clients;
using FederatedSharp.Parameters;

namespace FederatedSharp.Aggregation;

/// <summary>
/// Coordinate-wise trimmed mean (Yin et al. 2018): for each parameter, drop the <c>floor(beta x clients)</c> smallest
/// and largest values and average the rest (unweighted, as scipy's <c>trim_mean</c> that Flower uses). Default beta
/// 0.2 (Flower's). Memory: clients x model (holds every update, without
/// copies); each coordinate's values are sorted across SIMD lanes by a sorting network.
/// </summary>
public sealed class FedTrimmedAvg : IAggregator
{
    /// <summary>Creates the strategy.</summary>
    /// <param name="beta">Fraction cut at each end, in [0, 0.5) (Flower's <c>beta</c>, default 0.2).</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="beta"/> is outside [0, 0.5).</exception>
    public FedTrimmedAvg(double beta = 0.2)
    {
        Hyperparameters.InRange(beta, 0, 0.5, nameof(beta));
        Beta = beta;
    }

    /// <summary>Fraction cut at each end.</summary>
    public double Beta { get; }

    /// <inheritdoc />
    public string Name => "FedTrimmedAvg";

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
            OrderStatistics.TrimmedMean(updates.Select(u => u.Values).ToArray(), (int)(Beta * updates.Count), result.Memory);
            return result;
        });
    }
}
