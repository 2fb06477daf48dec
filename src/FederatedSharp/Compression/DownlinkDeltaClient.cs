using System.Numerics.Tensors;
using FederatedSharp.Clients;
using FederatedSharp.Parameters;

namespace FederatedSharp.Compression;

/// <summary>
/// The client side of downlink deltas (<c>UseDownlinkDeltas</c> on the server) for any client: it keeps the model it
/// last received as its reference in the client's state (<see cref="FitInstructions.State"/>), and when the server
/// sends a delta against that reference (<see cref="ConfigKeys.DownlinkBase"/>, the reference's hash) it adds the
/// delta to the reference and trains the inner client from the result. Every result reports the hash of the reference
/// held (<see cref="ConfigKeys.DownlinkReference"/>), which is how the server learns it may send deltas. Put it
/// outermost, around a <see cref="TopKUpdateClient"/> if there is one, so the update's delta is taken from the model
/// actually trained from. Without the server's keys, fits pass through unchanged; evaluations always do.
/// </summary>
public sealed class DownlinkDeltaClient : IClient
{
    /// <summary>The client state key of the reference (float32 values in layout order).</summary>
    public const string ReferenceKey = "fedsharp.downlink.reference";

    private readonly IClient _inner;

    /// <summary>Wraps a client.</summary>
    /// <param name="inner">The client that trains.</param>
    /// <exception cref="ArgumentNullException"><paramref name="inner"/> is null.</exception>
    public DownlinkDeltaClient(IClient inner) => _inner = inner ?? throw new ArgumentNullException(nameof(inner));

    /// <inheritdoc />
    public Task<ConfigRecord> GetPropertiesAsync(CancellationToken cancellationToken = default) => _inner.GetPropertiesAsync(cancellationToken);

    /// <inheritdoc />
    public Task<EvaluateResult> EvaluateAsync(EvaluateInstructions instructions, CancellationToken cancellationToken = default) => _inner.EvaluateAsync(instructions, cancellationToken);

    /// <inheritdoc />
    /// <exception cref="InvalidOperationException">
    /// The server sent a delta and this client holds no reference, or another one than the delta's base (its state was
    /// lost or the wire is lossy); the server then sends the whole model next time.
    /// </exception>
    public async Task<FitResult> FitAsync(FitInstructions instructions, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(instructions);
        ClientState? state = instructions.State;
        if (instructions.Config.TryGetValue(ConfigKeys.DownlinkBase, out ConfigValue baseHash))
        {
            float[] reference = Reconstruct(instructions, state, baseHash.AsInt64());
            using ModelParameters model = ModelParameters.FromValues(instructions.Parameters.Layout, reference);
            state!.SetFloats(ReferenceKey, reference);
            var rebuilt = new FitInstructions(instructions.Round, model, instructions.Config) { State = state };
            return await FitAndReportAsync(rebuilt, ReferenceHash.Of(reference), cancellationToken).ConfigureAwait(false);
        }

        if (state is not null && instructions.Config.TryGetValue(ConfigKeys.DownlinkOffer, out ConfigValue offer) && offer.Kind == ConfigValueKind.Boolean && offer.AsBoolean())
        {
            state.SetFloats(ReferenceKey, instructions.Parameters.Values);
            return await FitAndReportAsync(instructions, ReferenceHash.Of(instructions.Parameters.Values), cancellationToken).ConfigureAwait(false);
        }

        return await _inner.FitAsync(instructions, cancellationToken).ConfigureAwait(false);
    }

    private static float[] Reconstruct(FitInstructions instructions, ClientState? state, long expected)
    {
        float[] reference = state?.GetFloats(ReferenceKey)
            ?? throw new InvalidOperationException(state is null
                ? "The server sent a model delta, but this client has no state to keep a reference in (host it on a transport with client state)."
                : "The server sent a model delta, but this client holds no reference model (its state was lost); the server sends the whole model next time.");
        long held = ReferenceHash.Of(reference);
        if (held != expected)
        {
            throw new InvalidOperationException(
                $"The server sent a model delta against reference {expected:x16}, but this client holds {held:x16} (its state was lost, or the downlink format is lossy); the server sends the whole model next time.");
        }

        ModelParameters delta = instructions.Parameters;
        if (delta.Length != reference.Length)
        {
            throw new InvalidOperationException($"The model delta has {delta.Length} values, the reference {reference.Length}.");
        }

        TensorPrimitives.Add(reference, delta.Values, reference);
        return reference;
    }

    private async Task<FitResult> FitAndReportAsync(FitInstructions instructions, long held, CancellationToken cancellationToken)
    {
        FitResult result = await _inner.FitAsync(instructions, cancellationToken).ConfigureAwait(false);
        ConfigRecord metrics = result.Metrics.Copy();
        metrics[ConfigKeys.DownlinkReference] = held;
        // The inner client's own result: nothing is attached to it yet, so its parameters move to the new one.
        return new FitResult(result.Parameters, result.ExampleCount, metrics);
    }
}
