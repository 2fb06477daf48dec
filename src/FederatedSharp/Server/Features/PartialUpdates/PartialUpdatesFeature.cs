using FederatedSharp.Aggregation;
using FederatedSharp.Parameters;
using FederatedSharp.Server.Engine;

namespace FederatedSharp.Server.Features.PartialUpdates;

/// <summary>
/// Partial updates (<c>UsePartialUpdates</c>): a result that carries only some of the model's tensors (a client that
/// trains part of the model, a frozen backbone, adapters) is completed, before validation, with the other tensors of
/// the model its client started from, so they aggregate to their current values and every strategy sees whole models.
/// Each tensor of a partial result must be in the model with the same shape, else the result is rejected naming it.
/// </summary>
internal sealed class PartialUpdatesFeature : FederationFeature
{
    public override string Name => "partial updates";

    public override void OnBuild(FeatureBuildContext context) => context.AddUpdateStage(new Stage());

    private sealed class Stage : UpdateStage
    {
        public override string Name => "complete partial updates";

        public override int Order => UpdateStageOrder.Complete;

        public override IUpdateSink BeginRound(UpdateStageContext context, IUpdateSink next) => new Sink(context, next);
    }

    // The completed models are this stage's: the strategy may hold them until the round is over, so they live until then.
    private sealed class Sink(UpdateStageContext context, IUpdateSink next) : PassThroughSink(next)
    {
        private readonly List<ModelParameters> _completed = new();

        public override void Add(IReadOnlyList<ClientUpdate> updates)
        {
            var forwarded = new List<ClientUpdate>(updates.Count);
            foreach (ClientUpdate update in updates)
            {
                ModelParameters basis = update.StartedFrom ?? context.Global;
                if (update.Parameters.Layout.Equals(basis.Layout))
                {
                    forwarded.Add(update);
                    continue;
                }

                if (Complete(update.Parameters, basis, out string? problem) is { } whole)
                {
                    _completed.Add(whole);
                    forwarded.Add(update with { Parameters = whole });
                }
                else
                {
                    context.Reject(update.ClientId, problem!);
                }
            }

            Next.Add(forwarded);
        }

        public override void Dispose()
        {
            foreach (ModelParameters model in _completed)
            {
                model.Dispose();
            }

            _completed.Clear();
        }

        private static ModelParameters? Complete(ModelParameters part, ModelParameters basis, out string? problem)
        {
            Dictionary<string, TensorSpec> model = basis.Layout.Tensors.ToDictionary(t => t.Name, StringComparer.Ordinal);
            foreach (TensorSpec tensor in part.Layout.Tensors)
            {
                if (!model.TryGetValue(tensor.Name, out TensorSpec? known) || !known.Shape.SequenceEqual(tensor.Shape))
                {
                    problem = known is null
                        ? $"The partial update's tensor '{tensor.Name}' is not in the model."
                        : $"The partial update's tensor '{tensor.Name}' has shape {tensor.ShapeText}; the model's is {known.ShapeText}.";
                    return null;
                }
            }

            ModelParameters whole = basis.Clone();
            for (int t = 0; t < part.Layout.Count; t++)
            {
                part.GetTensor(t).CopyTo(whole.GetTensor(part.Layout.Tensors[t].Name));
            }

            problem = null;
            return whole;
        }
    }
}
