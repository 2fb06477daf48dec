using FederatedSharp.Clients;
using FederatedSharp.Parameters;
using MathNet.Numerics.Distributions;

namespace FederatedSharp.Simulation.Attacks;

/// <summary>
/// The colluding "a little is enough" attack (Baruch, Baruch and Goldberg, NeurIPS 2019): the attackers train honestly,
/// pool their updates, and all send the same update, their coordinate-wise mean shifted by z standard deviations,
/// <c>mu - z * sigma</c>. The shift stays inside the spread of honest updates, so distance- and order-based defences
/// (Krum, median, trimmed mean, Bulyan) let it through, while it pulls every coordinate the same way.
/// z defaults to the paper's choice for n clients and m attackers: s = floor(n/2 + 1) - m, z = Phi^-1((n - s) / n).
/// The members' updates meet at a barrier, so every member must be sampled in each round and the transport must run
/// the whole round at once (for the in-memory transport, <c>MaxConcurrency</c> at least the clients per round, since a
/// finished update holds its slot until the server consumes it); use it in simulations that sample every client.
/// </summary>
public sealed class AlieCoalition
{
    private readonly int _members;
    private readonly object _gate = new();
    private readonly Dictionary<int, RoundPool> _rounds = new();

    /// <summary>Creates a coalition.</summary>
    /// <param name="members">How many attackers collude.</param>
    /// <param name="totalClients">How many clients take part in a round (attackers included).</param>
    /// <param name="z">The shift in standard deviations; null for the paper's choice.</param>
    /// <exception cref="ArgumentOutOfRangeException">Counts out of range.</exception>
    public AlieCoalition(int members, int totalClients, double? z = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(members, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(totalClients, members);
        _members = members;
        Z = z ?? DefaultZ(totalClients, members);
    }

    /// <summary>The shift in standard deviations.</summary>
    public double Z { get; }

    /// <summary>The paper's z for <paramref name="n"/> clients of which <paramref name="m"/> attack.</summary>
    /// <param name="n">Clients.</param>
    /// <param name="m">Attackers.</param>
    /// <returns>z (at least 0).</returns>
    public static double DefaultZ(int n, int m)
    {
        int s = (n / 2) + 1 - m;
        double p = (n - s) / (double)n;
        return Math.Max(0, Normal.InvCDF(0, 1, Math.Clamp(p, 1e-6, 1 - 1e-6)));
    }

    /// <summary>Turns an honest client into a member of this coalition.</summary>
    /// <param name="honest">The client whose honest training feeds the coalition.</param>
    /// <returns>The attacking client.</returns>
    public IClient Recruit(IClient honest) => new Member(this, honest ?? throw new ArgumentNullException(nameof(honest)));

    private async Task<float[]> PoolAsync(int round, float[] delta, CancellationToken cancellationToken)
    {
        RoundPool pool;
        lock (_gate)
        {
            if (!_rounds.TryGetValue(round, out pool!))
            {
                pool = new RoundPool();
                _rounds[round] = pool;
                _rounds.Remove(round - 2);
            }

            pool.Deltas.Add(delta);
            if (pool.Deltas.Count == _members)
            {
                pool.Result.TrySetResult(Shifted(pool.Deltas, Z));
            }
        }

        return await pool.Result.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    private static float[] Shifted(List<float[]> deltas, double z)
    {
        int length = deltas[0].Length;
        var result = new float[length];
        for (int i = 0; i < length; i++)
        {
            double mean = 0;
            foreach (float[] d in deltas)
            {
                mean += d[i];
            }

            mean /= deltas.Count;
            double variance = 0;
            foreach (float[] d in deltas)
            {
                variance += (d[i] - mean) * (d[i] - mean);
            }

            double std = deltas.Count > 1 ? Math.Sqrt(variance / (deltas.Count - 1)) : 0;
            result[i] = (float)(mean - (z * std));
        }

        return result;
    }

    private sealed class RoundPool
    {
        public List<float[]> Deltas { get; } = new();

        public TaskCompletionSource<float[]> Result { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    private sealed class Member(AlieCoalition coalition, IClient honest) : IClient, IDisposable
    {
        public Task<ConfigRecord> GetPropertiesAsync(CancellationToken cancellationToken = default) => honest.GetPropertiesAsync(cancellationToken);

        public async Task<FitResult> FitAsync(FitInstructions instructions, CancellationToken cancellationToken = default)
        {
            ArgumentNullException.ThrowIfNull(instructions);
            using FitResult result = await honest.FitAsync(instructions, cancellationToken).ConfigureAwait(false);
            ReadOnlySpan<float> w = instructions.Parameters.Values;
            ReadOnlySpan<float> trained = result.Parameters.Values;
            var delta = new float[w.Length];
            for (int i = 0; i < delta.Length; i++)
            {
                delta[i] = trained[i] - w[i];
            }

            float[] malicious = await coalition.PoolAsync(instructions.Round, delta, cancellationToken).ConfigureAwait(false);
            ModelParameters sent = instructions.Parameters.Clone();
            System.Numerics.Tensors.TensorPrimitives.Add(sent.Values, malicious, sent.Values);
            return new FitResult(sent, result.ExampleCount, result.Metrics);
        }

        public Task<EvaluateResult> EvaluateAsync(EvaluateInstructions instructions, CancellationToken cancellationToken = default) =>
            honest.EvaluateAsync(instructions, cancellationToken);

        public void Dispose() => (honest as IDisposable)?.Dispose();
    }
}
