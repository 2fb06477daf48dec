using System.Numerics.Tensors;
using FederatedSharp.Clients;
using FederatedSharp.Compression;
using FederatedSharp.Diagnostics;
using FederatedSharp.Parameters;
using FederatedSharp.Server.Engine;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace FederatedSharp.Server.Features.DownlinkDeltas;

/// <summary>
/// Downlink deltas (<c>UseDownlinkDeltas</c>): around every fit task, replaces the model sent with the top-k of its
/// difference from the client's reference, and learns from the client's result whether it holds what was sent. A
/// whole model coming back was trained from the reference, not from the global model: it is rebased onto the global
/// model (plus the part of the difference not sent), so averages are not pulled towards stale references. Top-k
/// deltas (<see cref="ConfigKeys.IsDelta"/>) need nothing: they are applied to the global model.
/// </summary>
/// <remarks>
/// The server's copy of a reference is advanced when the delta is sent; it counts only once the client's result
/// reports its hash. A failed or unconfirmed task forgets it, so the next task sends the whole model. Generations keep
/// a late result of an abandoned task from confirming a newer reference. References are not checkpointed: after a
/// resume every client gets a whole model once.
/// </remarks>
internal sealed class DownlinkDeltasFeature(DownlinkDeltaOptions options) : FederationFeature
{
    private readonly Dictionary<string, Reference> _references = new(StringComparer.Ordinal);
    private ILogger _logger = NullLogger.Instance;
    private bool _rebase = true;
    private long _clock;

    public override string Name => "downlink deltas";

    public override ValueTask OnStartingAsync(FederationContext context, CancellationToken cancellationToken)
    {
        _logger = context.Logger;

        // Secure aggregation's fit results are not the updates aggregated: nothing to rebase there.
        _rebase = context.Services.Driver is not SecureAggregation.SecureRounds;
        return default;
    }

    public override async Task<FitResult> InvokeFitAsync(string clientId, FitInstructions instructions, FitInvoker next, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(instructions);
        ArgumentNullException.ThrowIfNull(next);
        (FitInstructions sent, Reference reference, long generation, long expected, float[]? residual) = Prepare(clientId, instructions);
        FitResult result;
        try
        {
            result = await next(sent, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            Forget(clientId, reference, generation);
            throw;
        }
        finally
        {
            if (!ReferenceEquals(sent.Parameters, instructions.Parameters))
            {
                sent.Parameters.Dispose();
            }
        }

        Confirm(clientId, reference, generation, expected, result.Metrics);
        if (residual is not null && _rebase && !IsDelta(result.Metrics))
        {
            Rebase(result.Parameters, instructions.Parameters.Layout, residual);
        }

        return result;
    }

    // A model trained from the reference, moved onto the model the round meant to send (tensor by tensor for a client
    // that sends only what it trains); parameters that do not fit the model are left for validation to reject.
    private static void Rebase(ModelParameters trained, TensorLayout layout, float[] residual)
    {
        if (trained.Layout.Equals(layout))
        {
            TensorPrimitives.Add(trained.Values, residual, trained.Values);
        }
        else if (SubLayout.Problem(trained.Layout, layout, "update") is null)
        {
            SubLayout.AddByName(trained.Layout, trained.Values, layout, residual, 1f);
        }
    }

    private static bool IsDelta(ConfigRecord metrics) =>
        metrics.TryGetValue(ConfigKeys.IsDelta, out ConfigValue value) && value.Kind == ConfigValueKind.Boolean && value.AsBoolean();

    private (FitInstructions Sent, Reference Reference, long Generation, long Hash, float[]? Residual) Prepare(string clientId, FitInstructions instructions)
    {
        ModelParameters model = instructions.Parameters;
        Reference reference;
        lock (_references)
        {
            if (!_references.TryGetValue(clientId, out reference!) || !reference.Confirmed || reference.Values.Length != model.Length)
            {
                reference = new Reference();
                _references[clientId] = reference;
            }

            reference.Generation = ++_clock;
            EvictBeyondCapacity();
        }

        lock (reference)
        {
            ConfigRecord config = instructions.Config.Copy();
            long generation = reference.Generation;
            if (!reference.Confirmed)
            {
                reference.Values = model.Values.ToArray();
                reference.Hash = ReferenceHash.Of(reference.Values);
                config[ConfigKeys.DownlinkOffer] = true;
                return (new FitInstructions(instructions.Round, model, config.Freeze()) { State = instructions.State }, reference, generation, reference.Hash, null);
            }

            float[] difference = new float[model.Length];
            TensorPrimitives.Subtract(model.Values, reference.Values, difference);
            ModelParameters delta = ModelParameters.CreateUninitialized(model.Layout);
            TopKSelection.Split(difference, delta.Values, (int)Math.Min(difference.Length, Math.Ceiling(options.Fraction * difference.Length)));
            if (options.HalfPrecision)
            {
                TopKSelection.RoundToHalf(delta.Values, difference);
            }

            config[ConfigKeys.DownlinkBase] = reference.Hash;
            TensorPrimitives.Add(reference.Values, delta.Values, reference.Values);
            reference.Hash = ReferenceHash.Of(reference.Values);
            reference.Confirmed = false;
            return (new FitInstructions(instructions.Round, delta, config.Freeze()) { State = instructions.State }, reference, generation, reference.Hash, difference);
        }
    }

    private void Confirm(string clientId, Reference reference, long generation, long expected, ConfigRecord metrics)
    {
        if (!metrics.TryGetValue(ConfigKeys.DownlinkReference, out ConfigValue held) || held.Kind != ConfigValueKind.Int64)
        {
            // A client that does not keep references: whole models, and no copy kept for it.
            Forget(clientId, reference, generation);
            return;
        }

        if (held.AsInt64() != expected)
        {
            Log.DownlinkReferenceMismatch(_logger, clientId, held.AsInt64(), expected);
            Forget(clientId, reference, generation);
            return;
        }

        lock (reference)
        {
            reference.Confirmed |= reference.Generation == generation;
        }
    }

    private void Forget(string clientId, Reference reference, long generation)
    {
        lock (_references)
        {
            if (reference.Generation == generation && _references.TryGetValue(clientId, out Reference? current) && ReferenceEquals(current, reference))
            {
                _references.Remove(clientId);
            }
        }
    }

    // The client least recently sent a model goes first.
    private void EvictBeyondCapacity()
    {
        while (_references.Count > options.MaxTrackedClients)
        {
            string oldest = _references.MinBy(pair => pair.Value.Generation).Key;
            _references.Remove(oldest);
        }
    }

    private sealed class Reference
    {
        public float[] Values { get; set; } = [];

        public long Hash { get; set; }

        public long Generation { get; set; }

        public bool Confirmed { get; set; }
    }
}
