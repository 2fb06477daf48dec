using FederatedSharp.Aggregation;
using FederatedSharp.Clients;
using FederatedSharp.Parameters;
using FederatedSharp.Privacy;
using FederatedSharp.Server.Engine;

namespace FederatedSharp.Server.Features.Validation;

/// <summary>
/// Update validation as the first stage of the update pipeline (<see cref="UpdateStageOrder.Validate"/>): layout,
/// finite values, example count, absolute and relative norm bounds and rate limits
/// (<see cref="UpdateValidationOptions"/>), each update checked against the model its client started from. A rejected
/// update is recorded and never aggregated. Every server has it, configured by
/// <see cref="FederatedServerOptions.Validation"/>.
/// </summary>
internal sealed class UpdateValidationFeature(UpdateValidationOptions options) : FederationFeature
{
    private readonly UpdateValidator _validator = new(options);

    public override string Name => "update validation";

    public override void OnBuild(FeatureBuildContext context) => context.AddUpdateStage(new Stage(_validator));

    private sealed class Stage(UpdateValidator validator) : UpdateStage
    {
        public override string Name => "validate";

        public override int Order => UpdateStageOrder.Validate;

        public override IUpdateSink BeginRound(UpdateStageContext context, IUpdateSink next) => new Sink(validator, context, next);
    }

    private sealed class Sink(UpdateValidator validator, UpdateStageContext context, IUpdateSink next) : PassThroughSink(next)
    {
        public override void Add(IReadOnlyList<ClientUpdate> updates)
        {
            List<ClientUpdate>? valid = null;
            for (int i = 0; i < updates.Count; i++)
            {
                try
                {
                    validator.Validate(updates[i], updates[i].StartedFrom ?? context.Global, context.Round);
                    valid?.Add(updates[i]);
                }
                catch (InvalidUpdateException ex)
                {
                    context.Reject(updates[i].ClientId, ex.Message);
                    valid ??= updates.Take(i).ToList();
                }
            }

            Next.Add(valid ?? updates);
        }
    }
}
