using FederatedSharp.Diagnostics;
using FederatedSharp.Server.Checkpoints;
using FederatedSharp.Server.Engine;

namespace FederatedSharp.Server.Features.Quarantine;

/// <summary>
/// Keeps every client's count of consecutive failed fits in <see cref="FederationContext.ClientHealth"/> and, when
/// <see cref="FederatedServerOptions.QuarantineAfterFailures"/> is set, leaves a client that failed that many times
/// in a row out of selection for <see cref="FederatedServerOptions.QuarantineRounds"/> rounds. Works with every
/// driver (a FedBuff "round" is a model version). Every server has it; it only counts while quarantine is off.
/// </summary>
internal sealed class QuarantineFeature : FederationFeature
{
    public override string Name => "quarantine";

    public override int Order => FeatureOrder.Policy;

    public override IReadOnlyList<string> FilterClients(FederationContext context, int round, IReadOnlyList<string> available) =>
        context.ClientHealth.Count == 0
            ? available
            : available.Where(id => !context.ClientHealth.TryGetValue(id, out ClientHealth h) || h.QuarantinedUntilRound < round).ToArray();

    public override ValueTask OnRoundCompletedAsync(FederationContext context, RoundRecord record, CancellationToken cancellationToken)
    {
        FederatedServerOptions options = context.Options;
        var failed = record.Failures
            .Where(f => f.Phase == RoundPhase.Fit && f.Kind != ClientFailureKind.NotNeeded)
            .Select(f => f.ClientId)
            .ToHashSet(StringComparer.Ordinal);
        foreach (string id in record.FitClients)
        {
            context.ClientHealth.TryGetValue(id, out ClientHealth health);
            if (!failed.Contains(id))
            {
                context.ClientHealth[id] = health with { ConsecutiveFailures = 0 };
                continue;
            }

            int count = health.ConsecutiveFailures + 1;
            if (options.QuarantineAfterFailures > 0 && count >= options.QuarantineAfterFailures)
            {
                context.ClientHealth[id] = new ClientHealth(0, record.Round + options.QuarantineRounds);
                Log.ClientQuarantined(context.Logger, id, count, record.Round + 1, record.Round + options.QuarantineRounds);
            }
            else
            {
                context.ClientHealth[id] = health with { ConsecutiveFailures = count };
            }
        }

        return default;
    }
}
