using System.Numerics.Tensors;
using FederatedSharp.Clients;
using FederatedSharp.Parameters;

namespace FederatedSharp.Compression;

/// <summary>
/// Sends top-k sparsified updates with error feedback (Stich et al. 2018; Karimireddy et al. 2019) for any client:
/// when the server asks for them (<see cref="ConfigKeys.TopKFraction"/>, set by <c>UseSparseUpdates</c>), the update
/// becomes its delta from the model received, plus the residual carried from earlier rounds, of which only the
/// <c>ceil(fraction x n)</c> values of largest magnitude are sent (marked <see cref="ConfigKeys.IsDelta"/>); the rest
/// is kept in the client's state (<see cref="FitInstructions.State"/>) and added to the next round's delta, so no part
/// of an update is lost, only delayed. A client that sends only the tensors it trains (frozen layers, adapters) gets
/// top-k deltas of those tensors. Without the key the inner client's result passes through unchanged. With a
/// <see cref="Serialization.SparseModelSerializer"/> on the wire, 1% of the values cost about 2% of the dense bytes.
/// </summary>
public sealed class TopKUpdateClient : IClient
{
    /// <summary>The client state key of the residual (float32 values in layout order).</summary>
    public const string ResidualKey = "fedsharp.topk.residual";

    private readonly IClient _inner;

    /// <summary>Wraps a client.</summary>
    /// <param name="inner">The client that trains.</param>
    /// <exception cref="ArgumentNullException"><paramref name="inner"/> is null.</exception>
    public TopKUpdateClient(IClient inner) => _inner = inner ?? throw new ArgumentNullException(nameof(inner));

    /// <summary>
    /// Rounds the values sent to float16 (default true), carrying the rounding error in the residual like the values
    /// not sent, so a <see cref="Serialization.SparseModelSerializer"/> stores them in 2 bytes instead of 4. Values
    /// beyond float16's range are sent as they are.
    /// </summary>
    public bool HalfPrecision { get; init; } = true;

    /// <inheritdoc />
    public Task<ConfigRecord> GetPropertiesAsync(CancellationToken cancellationToken = default) => _inner.GetPropertiesAsync(cancellationToken);

    /// <inheritdoc />
    public Task<EvaluateResult> EvaluateAsync(EvaluateInstructions instructions, CancellationToken cancellationToken = default) => _inner.EvaluateAsync(instructions, cancellationToken);

    /// <inheritdoc />
    /// <exception cref="ArgumentOutOfRangeException">The server's fraction is outside (0, 1].</exception>
    public async Task<FitResult> FitAsync(FitInstructions instructions, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(instructions);
        FitResult result = await _inner.FitAsync(instructions, cancellationToken).ConfigureAwait(false);
        if (!instructions.Config.TryGetValue(ConfigKeys.TopKFraction, out ConfigValue setting))
        {
            return result;
        }

        using (result)
        {
            double fraction = setting.AsDouble();
            if (!(fraction > 0 && fraction <= 1))
            {
                throw new ArgumentOutOfRangeException(nameof(instructions), fraction, $"The server's {ConfigKeys.TopKFraction} must be in (0, 1].");
            }

            ModelParameters global = instructions.Parameters;
            TensorLayout layout = result.Parameters.Layout;
            float[] delta = Delta(result.Parameters, global);
            if (instructions.State?.GetFloats(ResidualKey) is { } residual && residual.Length == delta.Length)
            {
                TensorPrimitives.Add(delta, residual, delta);
            }

            ModelParameters sent = ModelParameters.CreateUninitialized(layout);
            TopKSelection.Split(delta, sent.Values, (int)Math.Min(delta.Length, Math.Ceiling(fraction * delta.Length)));
            if (HalfPrecision)
            {
                TopKSelection.RoundToHalf(sent.Values, delta);
            }

            instructions.State?.SetFloats(ResidualKey, delta);
            ConfigRecord metrics = result.Metrics.Copy();
            metrics[ConfigKeys.IsDelta] = true;
            return new FitResult(sent, result.ExampleCount, metrics);
        }
    }

    // The trained parameters minus the model received: tensor by tensor when the client sends only the tensors it trains.
    private static float[] Delta(ModelParameters trained, ModelParameters global)
    {
        if (trained.Layout.Equals(global.Layout))
        {
            float[] whole = new float[global.Length];
            TensorPrimitives.Subtract(trained.Values, global.Values, whole);
            return whole;
        }

        if (SubLayout.Problem(trained.Layout, global.Layout, "trained parameters") is { } problem)
        {
            throw new LayoutMismatchException(problem);
        }

        float[] part = trained.Values.ToArray();
        SubLayout.AddByName(trained.Layout, part, global.Layout, global.Values, -1f);
        return part;
    }
}
