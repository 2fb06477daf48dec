using System.Globalization;
using FederatedSharp.Clients;
using FederatedSharp.Server.Audit;
using FederatedSharp.Server.Engine;

namespace FederatedSharp.Server.Features.Audit;

/// <summary>
/// Appends a record of every round to an <see cref="IAuditLog"/>: the model's SHA-256, who went in, who was left out
/// and why, the strategy's and the stages' reported figures, and the privacy budget spent.
/// </summary>
internal sealed class AuditFeature(IAuditLog log) : FederationFeature
{
    public override string Name => "audit log";

    public override int Order => FeatureOrder.Audit;

    public override async ValueTask OnRoundCompletedAsync(FederationContext context, RoundRecord record, CancellationToken cancellationToken)
    {
        var failedFit = new HashSet<string>(record.Failures.Where(f => f.Phase == RoundPhase.Fit).Select(f => f.ClientId), StringComparer.Ordinal);
        var entry = new AuditEntry
        {
            Round = record.Round,
            Timestamp = context.TimeProvider.GetUtcNow(),
            ModelSha256 = ModelHash.Sha256(context.Global),
            Strategy = context.Aggregator.Name,
            ConfigurationHash = context.ConfigurationHash.ToString("x16", CultureInfo.InvariantCulture),
            Participants = record.Succeeded ? record.FitClients.Where(id => !failedFit.Contains(id)).ToArray() : Array.Empty<string>(),
            Rejected = record.Failures.Select(f => new AuditRejection(f.ClientId, f.Phase.ToString().ToLowerInvariant(), f.Kind.ToString(), f.Reason)).ToArray(),
            StrategyParameters = record.AggregatorMetrics.ToDictionary(p => p.Key, p => p.Value.ToString(), StringComparer.Ordinal),
            EpsilonSoFar = record.AggregatorMetrics.TryGetValue("dp_epsilon", out ConfigValue epsilon) ? epsilon.AsDouble() : null,
        };
        await log.AppendAsync(entry, cancellationToken).ConfigureAwait(false);
    }
}
