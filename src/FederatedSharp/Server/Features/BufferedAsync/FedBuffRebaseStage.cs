using System.Numerics.Tensors;
using FederatedSharp.Aggregation;
using FederatedSharp.Clients;
using FederatedSharp.Parameters;
using FederatedSharp.Server.Engine;

namespace FederatedSharp.Server.Features.BufferedAsync;

/// <summary>
/// FedBuff's re-base (<see cref="UpdateStageOrder.Rebase"/>): a client that started from version <c>v</c> and
/// finished while the server is at version <c>t</c> moved the model by <c>d = y - x_v</c>; the stage hands the
/// strategy <c>x_t + eta s(t - v) d</c> with weight <c>n</c> (or 1), <c>s</c> the staleness weight
/// (<see cref="BufferedAsyncOptions.StalenessWeight"/>). FedAvg then yields FedBuff's server update
/// <c>x_t + eta sum(n s d) / sum(n)</c>, and any other strategy runs its own step on the same deltas.
/// </summary>
internal sealed class FedBuffRebaseStage(BufferedAsyncRounds driver) : UpdateStage
{
    public override string Name => "FedBuff re-base";

    public override int Order => UpdateStageOrder.Rebase;

    public override IUpdateSink BeginRound(UpdateStageContext context, IUpdateSink next) => new Sink(driver, context, next);

    private sealed class Sink(BufferedAsyncRounds driver, UpdateStageContext context, IUpdateSink next) : PassThroughSink(next)
    {
        public override void Add(IReadOnlyList<ClientUpdate> updates)
        {
            BufferedAsyncOptions options = driver.Options;
            var rebased = new List<ClientUpdate>(updates.Count);
            try
            {
                foreach (ClientUpdate update in updates)
                {
                    ModelParameters start = update.StartedFrom ?? context.Global;
                    int staleness = update.StartedFrom is null ? 0 : context.Round - 1 - driver.VersionOf(start);
                    float scale = (float)(options.ServerLearningRate * BufferedAsyncOptions.StalenessWeight(staleness));
                    ModelParameters moved = ModelParameters.CreateUninitialized(context.Global.Layout);
                    TensorPrimitives.Subtract(update.Parameters.Values, start.Values, moved.Values);
                    TensorPrimitives.MultiplyAdd(moved.Values, scale, context.Global.Values, moved.Values);
                    rebased.Add(new ClientUpdate(update.ClientId, moved, options.WeightByExamples ? update.ExampleCount : 1, update.Metrics));
                }

                Next.Add(rebased);
            }
            finally
            {
                foreach (ClientUpdate update in rebased)
                {
                    update.Parameters.Dispose();
                }
            }
        }

    }
}
