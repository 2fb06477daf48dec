using FederatedSharp.Aggregation;
using FederatedSharp.Privacy.SecureAggregation;
using FederatedSharp.Server.Engine;

namespace FederatedSharp.Server.Features.SecureAggregation;

/// <summary>Makes every round a secure round; refuses strategies that need individual updates.</summary>
internal sealed class SecureAggregationFeature(SecureAggregationOptions options) : FederationFeature
{
    public override string Name => "secure aggregation";

    public override void OnBuild(FeatureBuildContext context)
    {
        options.Validate();
        if (!context.Aggregator.Traits.HasFlag(AggregatorTraits.Linear))
        {
            throw new ArgumentException(
                $"Secure aggregation reveals only the mean of the updates, and {context.Aggregator.Name} needs every individual update (it does not declare AggregatorTraits.Linear). Use FedAvg, FedProx, FedAvgM or a FedOpt strategy (FedAdam, FedYogi, FedAdagrad) with secure aggregation.");
        }

        if (context.Features.Any(f => f is CentralDp.CentralDpFeature))
        {
            throw new ArgumentException("Secure aggregation adds its own central noise (SecureAggregationOptions.NoiseMultiplier); it does not combine with UseCentralDp, whose stages need individual updates.");
        }

        context.UseDriver(new SecureRounds(options), Name);
    }
}
