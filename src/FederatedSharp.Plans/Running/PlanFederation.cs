using FederatedSharp.Aggregation;
using FederatedSharp.Analytics;
using FederatedSharp.Clients;
using FederatedSharp.Privacy;
using FederatedSharp.Server;
using FederatedSharp.Transport;

namespace FederatedSharp.Plans;

/// <summary>
/// Runs a plan on the round engine over any transport whose clients are <see cref="PlanClient"/>s: in memory for a
/// simulation, over gRPC for nodes. The server side of a plan is the same in both, which is why a plan gives the
/// same result in both.
/// </summary>
public static class PlanFederation
{
    /// <summary>
    /// Runs the plan: waits for <see cref="FederationSpec.MinClients"/> sites, computes the federated standardisation
    /// first when the plan asks for it, then trains for the plan's rounds, and evaluates the final models across sites
    /// when the plan asks for it (<see cref="History.CrossSite"/>).
    /// </summary>
    /// <param name="plan">The plan.</param>
    /// <param name="transport">The transport whose clients run the plan.</param>
    /// <param name="configure">Further server settings (logging, clock, checkpoints, audit...); null for none.</param>
    /// <param name="progress">Receives a report after every round; null for none.</param>
    /// <param name="cancellationToken">Stops the run.</param>
    /// <returns>The final model and history (the caller disposes it).</returns>
    /// <exception cref="PlanDataException">The federated statistics could not be computed (a site refused or failed).</exception>
    public static async Task<FederationResult> RunAsync(
        TrainingPlan plan, ITransport transport, Action<FederatedServerBuilder>? configure = null, IProgress<RoundReport>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(plan);
        ArgumentNullException.ThrowIfNull(transport);
        await transport.WaitForClientsAsync(plan.Federation.MinClients, cancellationToken).ConfigureAwait(false);
        IReadOnlyList<string> sites = transport.GetAvailableClients();
        var config = new ConfigRecord { [PlanClient.PlanHashKey] = plan.Hash };
        var builder = new FederatedServerBuilder().UseTransport(transport);
        Configure(builder, plan, sites.Count, config);
        configure?.Invoke(builder);
        FederatedServer server = builder.Build();
        if (plan.Data.Standardize == Standardization.Federated)
        {
            FeatureScaling scaling = await ComputeScalingAsync(server, plan, sites, cancellationToken).ConfigureAwait(false);
            scaling.WriteTo(config);
        }

        config.Freeze();
        FederationResult result = await server.RunAsync(progress, cancellationToken).ConfigureAwait(false);
        if (plan.Federation.CrossSiteEvaluation)
        {
            try
            {
                await new CrossSiteEvaluation(server).EvaluateAsync(result, sites, config, cancellationToken).ConfigureAwait(false);
            }
            catch
            {
                result.Dispose();
                throw;
            }
        }

        return result;
    }

    /// <summary>Sets a builder's strategy, initial model, schedule, round configuration and central DP from a plan.</summary>
    /// <param name="builder">The builder.</param>
    /// <param name="plan">The plan.</param>
    /// <param name="siteCount">The number of sites sampled from (central DP's accounting needs it).</param>
    /// <param name="config">The round configuration sent with every task; it gains the plan's schedule.</param>
    /// <returns>The builder.</returns>
    public static FederatedServerBuilder Configure(FederatedServerBuilder builder, TrainingPlan plan, int siteCount, ConfigRecord config)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(plan);
        ArgumentNullException.ThrowIfNull(config);
        FederationSpec f = plan.Federation;
        config[ConfigKeys.LearningRate] = plan.Optimizer.LearningRate;
        config[ConfigKeys.BatchSize] = (long)plan.Training.BatchSize;
        if (plan.Training.LocalSteps is int steps)
        {
            config[ConfigKeys.LocalSteps] = (long)steps;
        }
        else
        {
            config[ConfigKeys.LocalEpochs] = (long)plan.Training.LocalEpochs;
        }

        builder
            .UseAggregator(Aggregators.Create(f.Strategy, f.Hyperparameters))
            .WithInitialParameters(PlanCompiler.CreateInitialParameters(plan))
            .Configure(o =>
            {
                o.Rounds = f.Rounds;
                o.MinAvailableClients = f.MinClients;
                o.MinFitClients = f.MinClients;
                o.MinEvaluateClients = f.FractionEvaluate > 0 ? f.MinClients : 0;
                o.FractionFit = f.FractionFit;
                o.FractionEvaluate = f.FractionEvaluate;
                o.Seed = plan.Seed;
            })
            .WithFitConfig(_ => config)
            .WithEvaluateConfig(_ => config);
        if (plan.Privacy.CentralDp is { } dp)
        {
            builder.UseCentralDp(new DpFedAvgOptions
            {
                NoiseMultiplier = dp.NoiseMultiplier,
                ClipNorm = dp.ClipNorm,
                Delta = dp.Delta,
                TotalClients = siteCount,
                Seed = DeterministicRandom.Mix(plan.Seed, 0xCD9),
            });
        }

        return builder;
    }

    private static async Task<FeatureScaling> ComputeScalingAsync(FederatedServer server, TrainingPlan plan, IReadOnlyList<string> sites, CancellationToken cancellationToken)
    {
        IReadOnlyList<string> columns = plan.Data.StandardizeColumns;
        var request = new StatisticsRequest { Features = columns, HistogramBins = 0, Quantiles = [] };
        StatisticsReport report = await new FederatedStatistics(server).ComputeAsync(request, sites, cancellationToken).ConfigureAwait(false);
        if (report.Failures.Count > 0)
        {
            throw new PlanDataException("The federated standardisation failed at " + string.Join("; ", report.Failures.Select(f => $"{f.ClientId}: {f.Reason}")) + ".");
        }

        var means = new double[columns.Count];
        var stds = new double[columns.Count];
        for (int c = 0; c < columns.Count; c++)
        {
            FeatureStatistics s = report.Global.Features[columns[c]];
            if (s.Mean is not double mean || s.StandardDeviation is not double std || s.IncompleteSites.Count > 0)
            {
                throw new PlanDataException($"The federated mean and standard deviation of '{columns[c]}' were withheld by {string.Join(", ", s.IncompleteSites.DefaultIfEmpty("a site"))} under their disclosure policy.");
            }

            means[c] = mean;
            stds[c] = std;
        }

        return new FeatureScaling(columns, means, stds);
    }
}
