using FederatedSharp.Clients;
using FederatedSharp.Parameters;
using MathNet.Numerics.Distributions;

namespace FederatedSharp.Simulation.Attacks;

/// <summary>
/// A malicious client for robustness experiments: trains like the client it wraps (the attacker has real data), then
/// replaces its update according to <see cref="ByzantineAttack"/>. Label flipping needs no wrapper: give an honest
/// client flipped labels. Seeded, so experiments replay.
/// </summary>
public sealed class ByzantineClient : IClient, IDisposable
{
    private readonly IClient _inner;

    /// <summary>Wraps a client.</summary>
    /// <param name="inner">The client whose training the attacker reuses.</param>
    /// <param name="attack">The attack.</param>
    /// <param name="scale">Noise standard deviation (<see cref="ByzantineAttack.GaussianNoise"/>) or shift factor (<see cref="ByzantineAttack.SmallShift"/>).</param>
    /// <param name="seed">Seed of the noise.</param>
    public ByzantineClient(IClient inner, ByzantineAttack attack, double scale = 1.0, ulong seed = 0)
    {
        _inner = inner ?? throw new ArgumentNullException(nameof(inner));
        Attack = attack;
        Scale = scale;
        Seed = seed;
    }

    /// <summary>The attack.</summary>
    public ByzantineAttack Attack { get; }

    /// <summary>The attack's scale.</summary>
    public double Scale { get; }

    /// <summary>The seed.</summary>
    public ulong Seed { get; }

    /// <inheritdoc />
    public Task<ConfigRecord> GetPropertiesAsync(CancellationToken cancellationToken = default) => _inner.GetPropertiesAsync(cancellationToken);

    /// <inheritdoc />
    public async Task<FitResult> FitAsync(FitInstructions instructions, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(instructions);
        using FitResult honest = await _inner.FitAsync(instructions, cancellationToken).ConfigureAwait(false);
        ReadOnlySpan<float> w = instructions.Parameters.Values;
        ModelParameters sent = honest.Parameters.Clone();
        Span<float> v = sent.Values;
        var random = new DeterministicRandom(DeterministicRandom.Mix(Seed, (ulong)instructions.Round, 0xBAD));
        for (int i = 0; i < v.Length; i++)
        {
            double update = v[i] - (double)w[i];
            v[i] = Attack switch
            {
                ByzantineAttack.SignFlip => (float)(w[i] - (10 * update)),
                ByzantineAttack.GaussianNoise => (float)(w[i] + Normal.Sample(random, 0, Scale)),
                _ => (float)(w[i] + update - (Scale * Math.Abs(update))),
            };
        }

        return new FitResult(sent, honest.ExampleCount, honest.Metrics);
    }

    /// <inheritdoc />
    public Task<EvaluateResult> EvaluateAsync(EvaluateInstructions instructions, CancellationToken cancellationToken = default) =>
        _inner.EvaluateAsync(instructions, cancellationToken);

    /// <summary>Disposes the wrapped client when it is disposable.</summary>
    public void Dispose() => (_inner as IDisposable)?.Dispose();
}
