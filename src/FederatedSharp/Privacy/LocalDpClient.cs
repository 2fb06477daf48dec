using FederatedSharp.Clients;
using FederatedSharp.Parameters;
using MathNet.Numerics.Distributions;

namespace FederatedSharp.Privacy;

/// <summary>
/// Local differential privacy on the client: wraps any <see cref="IClient"/> and, before the update leaves the
/// hospital, clips <c>d = w_local - w_global</c> to L2 norm <see cref="ClipNorm"/> and adds Gaussian noise of standard
/// deviation <c>NoiseMultiplier x ClipNorm</c> to every coordinate, so the server (and anyone on the wire) only ever
/// sees <c>w_global + clip(d) + N(0, (z C)^2)</c>. Each fit is one Gaussian mechanism with sensitivity C on the client's
/// whole data set (record-level guarantees need DP-SGD in the trainer). Noise is seeded by (seed, client seed, round).
/// </summary>
public sealed class LocalDpClient : IClient, IDisposable
{
    private readonly IClient _inner;
    private readonly ulong _seed;

    /// <summary>Wraps a client.</summary>
    /// <param name="inner">The client that trains.</param>
    /// <param name="clipNorm">C, the L2 bound on the update (&gt; 0).</param>
    /// <param name="noiseMultiplier">z, the noise standard deviation in units of C (&gt;= 0).</param>
    /// <param name="seed">Seed of the noise.</param>
    /// <exception cref="ArgumentOutOfRangeException">A setting is out of range.</exception>
    public LocalDpClient(IClient inner, double clipNorm, double noiseMultiplier, ulong seed)
    {
        _inner = inner ?? throw new ArgumentNullException(nameof(inner));
        if (!(clipNorm > 0) || !double.IsFinite(clipNorm))
        {
            throw new ArgumentOutOfRangeException(nameof(clipNorm), clipNorm, "The clip norm must be a finite number > 0.");
        }

        if (!(noiseMultiplier >= 0) || !double.IsFinite(noiseMultiplier))
        {
            throw new ArgumentOutOfRangeException(nameof(noiseMultiplier), noiseMultiplier, "The noise multiplier must be a finite number >= 0.");
        }

        ClipNorm = clipNorm;
        NoiseMultiplier = noiseMultiplier;
        _seed = seed;
    }

    /// <summary>C.</summary>
    public double ClipNorm { get; }

    /// <summary>z.</summary>
    public double NoiseMultiplier { get; }

    /// <inheritdoc />
    public Task<ConfigRecord> GetPropertiesAsync(CancellationToken cancellationToken = default) => _inner.GetPropertiesAsync(cancellationToken);

    /// <inheritdoc />
    public async Task<FitResult> FitAsync(FitInstructions instructions, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(instructions);
        using FitResult trained = await _inner.FitAsync(instructions, cancellationToken).ConfigureAwait(false);
        ReadOnlySpan<float> global = instructions.Parameters.Values;
        ModelParameters released = trained.Parameters.Clone();
        Span<float> w = released.Values;
        double squared = 0;
        for (int i = 0; i < w.Length; i++)
        {
            double d = w[i] - (double)global[i];
            squared += d * d;
        }

        double norm = Math.Sqrt(squared);
        double factor = norm > ClipNorm ? ClipNorm / norm : 1;
        var random = new DeterministicRandom(DeterministicRandom.Mix(_seed, (ulong)instructions.Round, 0x10CA1));
        double std = NoiseMultiplier * ClipNorm;
        for (int i = 0; i < w.Length; i++)
        {
            double noise = std > 0 ? Normal.Sample(random, 0, std) : 0;
            w[i] = (float)(global[i] + ((w[i] - (double)global[i]) * factor) + noise);
        }

        var metrics = trained.Metrics.Copy();
        metrics["local_dp_clipped"] = norm > ClipNorm;
        metrics["local_dp_update_norm"] = norm;
        return new FitResult(released, trained.ExampleCount, metrics.Freeze());
    }

    /// <inheritdoc />
    public Task<EvaluateResult> EvaluateAsync(EvaluateInstructions instructions, CancellationToken cancellationToken = default) =>
        _inner.EvaluateAsync(instructions, cancellationToken);

    /// <summary>Disposes the wrapped client when it is disposable.</summary>
    public void Dispose() => (_inner as IDisposable)?.Dispose();
}
