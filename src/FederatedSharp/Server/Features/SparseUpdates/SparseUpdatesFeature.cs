using System.Numerics.Tensors;
using FederatedSharp.Aggregation;
using FederatedSharp.Clients;
using FederatedSharp.Server.Engine;

namespace FederatedSharp.Server.Features.SparseUpdates;

/// <summary>
/// Sparse updates (<c>UseSparseUpdates</c>): every fit asks clients for top-k deltas (<see cref="ConfigKeys.TopKFraction"/>),
/// and the first stage of the update pipeline turns each result marked <see cref="ConfigKeys.IsDelta"/> back into a
/// model (the model its client started from plus the delta), so validation, privacy stages and every strategy see
/// ordinary updates. Clients that do not compress send whole models, which pass through; the two mix in one round.
/// </summary>
internal sealed class SparseUpdatesFeature(double fraction) : FederationFeature
{
    public override string Name => "sparse updates";

    public override void OnBuild(FeatureBuildContext context) => context.AddUpdateStage(new Stage());

    public override void ConfigureFit(int round, ConfigRecord config) => config[ConfigKeys.TopKFraction] = fraction;

    private sealed class Stage : UpdateStage
    {
        public override string Name => "expand sparse deltas";

        public override int Order => UpdateStageOrder.Expand;

        public override IUpdateSink BeginRound(UpdateStageContext context, IUpdateSink next) => new Sink(context, next);
    }

    // The delta is expanded in place: the received parameters are this round's and nobody else reads them as a delta.
    private sealed class Sink(UpdateStageContext context, IUpdateSink next) : PassThroughSink(next)
    {
        public override void Add(IReadOnlyList<ClientUpdate> updates)
        {
            List<ClientUpdate>? accepted = null;
            for (int i = 0; i < updates.Count; i++)
            {
                ClientUpdate update = updates[i];
                if (update.Metrics.TryGetValue(ConfigKeys.IsDelta, out ConfigValue isDelta) && isDelta.Kind == ConfigValueKind.Boolean && isDelta.AsBoolean())
                {
                    Parameters.ModelParameters basis = update.StartedFrom ?? context.Global;
                    if (basis.Layout.Equals(update.Parameters.Layout))
                    {
                        TensorPrimitives.Add(update.Parameters.Values, basis.Values, update.Parameters.Values);
                    }
                    else if (Parameters.SubLayout.Problem(update.Parameters.Layout, basis.Layout, "sparse delta") is { } problem)
                    {
                        context.Reject(update.ClientId, problem);
                        accepted ??= updates.Take(i).ToList();
                        continue;
                    }
                    else
                    {
                        // The delta of the tensors a client trains: those tensors become models, completed later (UsePartialUpdates).
                        Parameters.SubLayout.AddByName(update.Parameters.Layout, update.Parameters.Values, basis.Layout, basis.Values, 1f);
                    }
                }

                accepted?.Add(update);
            }

            Next.Add(accepted ?? updates);
        }
    }
}
