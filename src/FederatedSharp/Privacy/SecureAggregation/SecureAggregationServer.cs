using System.Runtime.InteropServices;
using System.Security.Cryptography;
using FederatedSharp.Clients;
using FederatedSharp.Parameters;
using FederatedSharp.Transport;
using MathNet.Numerics.Distributions;

namespace FederatedSharp.Privacy.SecureAggregation;

/// <summary>The outcome of a secure round: the new model and who took part.</summary>
public sealed class SecureAggregationResult : IDisposable
{
    internal SecureAggregationResult(ModelParameters parameters, IReadOnlyList<string> contributors, IReadOnlyList<string> dropped, long totalExamples, TimeSpan duration)
    {
        Parameters = parameters;
        Contributors = contributors;
        Dropped = dropped;
        TotalExamples = totalExamples;
        Duration = duration;
    }

    /// <summary>The new global model: the old one plus the example-weighted mean of the clipped updates.</summary>
    public ModelParameters Parameters { get; }

    /// <summary>Clients whose (masked) updates are in the sum.</summary>
    public IReadOnlyList<string> Contributors { get; }

    /// <summary>Clients that dropped out (or were refused) at some phase, in order.</summary>
    public IReadOnlyList<string> Dropped { get; }

    /// <summary>The contributors' examples together: the only count the server learns.</summary>
    public long TotalExamples { get; }

    /// <summary>Wall time of the four phases.</summary>
    public TimeSpan Duration { get; }

    /// <summary>Disposes the parameters.</summary>
    public void Dispose() => Parameters.Dispose();
}

/// <summary>
/// Secure aggregation (Bonawitz et al. 2017) driven from the server: four phases, each an ordinary fit call to every
/// remaining client, so it runs over any <see cref="ITransport"/> (in-memory, gRPC) with clients wrapped in
/// <see cref="SecureAggregationClient"/>. (1) advertise: each client sends two fresh ECDH P-256 public keys; (2) share:
/// each sends its mask key and self-mask seed, Shamir-split (threshold t) and AES-GCM-encrypted for each other client,
/// which the server routes; (3) masked input: each trains and sends its example-weighted, L2-clipped update in 64-bit
/// fixed point, plus its self mask and the pairwise masks it agreed with every other client (these cancel in the sum);
/// (4) unmask: survivors reveal, per client, the share of the self-mask seed (it contributed) or of the mask key (it
/// dropped), never both. The server removes the masks and learns only the sum (and the total example count). Up to
/// n - t clients may drop out after sending masked inputs; with fewer than t left the round fails with
/// <see cref="SecureAggregationException"/> and nothing is revealed. Honest-but-curious server: it is trusted to route
/// messages faithfully (the active-adversary variant with signatures and consistency checks is not implemented).
/// </summary>
public sealed class SecureAggregationServer
{
    private static readonly TensorLayout Empty = TensorLayout.Create(new TensorSpec("secagg", 1));
    private readonly SecureAggregationOptions _options;
    private readonly TimeProvider _timeProvider;

    /// <summary>Creates the server side.</summary>
    /// <param name="options">Settings; null for defaults.</param>
    /// <param name="timeProvider">The clock for phase deadlines and durations; null for the system clock.</param>
    public SecureAggregationServer(SecureAggregationOptions? options = null, TimeProvider? timeProvider = null)
    {
        _options = options ?? new SecureAggregationOptions();
        _options.Validate();
        _timeProvider = timeProvider ?? TimeProvider.System;
    }

    /// <summary>The settings in force.</summary>
    public SecureAggregationOptions Options => _options;

    /// <summary>Runs one secure round over <paramref name="clientIds"/>.</summary>
    /// <param name="transport">The transport the clients are connected to.</param>
    /// <param name="clientIds">The clients of the round (at least the threshold).</param>
    /// <param name="round">The round number (keys and masks are fresh per round).</param>
    /// <param name="global">The current global model.</param>
    /// <param name="fitConfig">Training settings passed to the clients with the masked-input phase.</param>
    /// <param name="cancellationToken">Cancels the round.</param>
    /// <returns>The new model and who contributed.</returns>
    /// <exception cref="SecureAggregationException">Too few clients remain, or the unmasked sum is inconsistent.</exception>
    public Task<SecureAggregationResult> RunRoundAsync(
        ITransport transport, IReadOnlyList<string> clientIds, int round, ModelParameters global, ConfigRecord? fitConfig = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(transport);
        return RunRoundAsync((id, instructions, ct) => CallAsync(transport, id, instructions, ct), clientIds, round, global, fitConfig, cancellationToken);
    }

    /// <summary>
    /// Runs one secure round with every client call made by <paramref name="call"/> (the server's one client-call path:
    /// deadline, cancellation, failure record). <paramref name="call"/> returns the reply's metrics, or null when the
    /// client failed (it then counts as dropped).
    /// </summary>
    internal async Task<SecureAggregationResult> RunRoundAsync(
        Func<string, FitInstructions, CancellationToken, Task<ConfigRecord?>> call, IReadOnlyList<string> clientIds, int round, ModelParameters global, ConfigRecord? fitConfig, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(clientIds);
        ArgumentNullException.ThrowIfNull(global);
        long started = _timeProvider.GetTimestamp();
        List<string> u1 = clientIds.Distinct().OrderBy(id => id, StringComparer.Ordinal).ToList();
        int neighbourhood = _options.Neighbours is int k && k + 1 < u1.Count ? k + 1 : u1.Count;
        int threshold = _options.Threshold ?? Math.Max(2, (2 * neighbourhood / 3) + 1);
        Require(u1.Count, threshold, "start");
        using var run = new SecureRound(this, call, round, threshold, cancellationToken);
        List<string> u1Keys = await run.AdvertiseAsync(u1).ConfigureAwait(false);
        List<string> u2 = await run.ShareAsync(u1Keys).ConfigureAwait(false);
        List<string> u3 = await run.MaskedInputAsync(u1.Count, u2, global, fitConfig).ConfigureAwait(false);
        await run.UnmaskAsync(u2, u3).ConfigureAwait(false);
        (ModelParameters next, long examples) = run.Finish(global, u3);
        return new SecureAggregationResult(next, u3, run.Dropped, examples, _timeProvider.GetElapsedTime(started));
    }

    /// <summary>One secure round's state, phase by phase: keys, neighbourhoods, inboxes, the masked sum, the revealed shares.</summary>
    private sealed class SecureRound(SecureAggregationServer server, Func<string, FitInstructions, CancellationToken, Task<ConfigRecord?>> call, int round, int threshold, CancellationToken cancellationToken) : IDisposable
    {
        private readonly SecureAggregationOptions _options = server._options;
        private readonly ModelParameters empty = ModelParameters.Create(Empty);
        private readonly List<(string, byte[][])> keys = new();
        private readonly List<string> dropped = new();
        private Dictionary<string, HashSet<string>> neighbours = new(StringComparer.Ordinal);
        private Dictionary<string, List<(string, byte[][])>> inboxes = new(StringComparer.Ordinal);
        private ulong[] sum = Array.Empty<ulong>();
        private double scale;

        public List<string> Dropped => dropped;

        public void Dispose() => empty.Dispose();

        // 1. Advertise keys.
        public async Task<List<string>> AdvertiseAsync(List<string> u1)
        {
            ConfigRecord advertise = Config("advertise", threshold).Freeze();
            Dictionary<string, ConfigRecord> advertised = await PhaseAsync(call, u1, round, empty, _ => advertise, dropped, cancellationToken).ConfigureAwait(false);
            foreach ((string id, ConfigRecord reply) in advertised.OrderBy(p => p.Key, StringComparer.Ordinal))
            {
                List<(string Id, byte[][] Fields)> entry = Wire.Unpack(Wire.Bytes(reply, Wire.PublicKeys, "key advertisement"), "key advertisement");
                if (entry.Count == 1 && entry[0].Id == id && entry[0].Fields.Length == 2)
                {
                    keys.Add((id, entry[0].Fields));
                }
                else
                {
                    dropped.Add(id);
                }
            }

            List<string> u1Keys = keys.Select(k => k.Item1).ToList();
            Require(u1Keys.Count, threshold, "key advertisement");
            neighbours = server.Neighbourhoods(u1Keys, round);
            return u1Keys;
        }

        // 2. Share keys; the server routes the encrypted shares.
        public async Task<List<string>> ShareAsync(List<string> u1Keys)
        {
            byte[] packedKeys = Wire.Pack(keys);
            Dictionary<string, ConfigRecord> shared = await PhaseAsync(call, u1Keys, round, empty, id =>
            {
                ConfigRecord share = Config("share", threshold);
                share[Wire.Keys] = ConfigValue.FromBytes(packedKeys);
                if (_options.Neighbours is not null)
                {
                    share[Wire.Neighbours] = ConfigValue.FromBytes(Wire.Ids(neighbours[id]));
                }

                return share;
            }, dropped, cancellationToken).ConfigureAwait(false);
            inboxes = u1Keys.ToDictionary(id => id, _ => new List<(string, byte[][])>(), StringComparer.Ordinal);
            var u2 = new List<string>();
            foreach ((string from, ConfigRecord reply) in shared.OrderBy(p => p.Key, StringComparer.Ordinal))
            {
                List<(string Id, byte[][] Fields)> outgoing = Wire.Unpack(Wire.Bytes(reply, Wire.Shares, "share reply"), "shares");
                if (outgoing.Count != neighbours[from].Count || !outgoing.Select(o => o.Id).ToHashSet(StringComparer.Ordinal).SetEquals(neighbours[from]))
                {
                    dropped.Add(from);
                    continue;
                }

                u2.Add(from);
                foreach ((string to, byte[][] fields) in outgoing)
                {
                    inboxes[to].Add((from, fields));
                }
            }

            Require(u2.Count, threshold, "key sharing");
            return u2;
        }

        // 3. Masked inputs (each client gets the shares addressed to it, from clients that shared).
        public async Task<List<string>> MaskedInputAsync(int sampled, List<string> u2, ModelParameters global, ConfigRecord? fitConfig)
        {
            scale = Math.Pow(2, 62) / (_options.MaxExampleCount * (double)sampled * _options.ClipNorm);
            var masked = new Dictionary<string, ConfigRecord>(StringComparer.Ordinal);
            Task<(string, ConfigRecord?)>[] calls = u2.Select(id =>
            {
                ConfigRecord config = Config("masked", threshold, fitConfig);
                config[Wire.Inbox] = ConfigValue.FromBytes(Wire.Pack(inboxes[id].Where(e => u2.Contains(e.Item1))));
                config[Wire.Sharers] = ConfigValue.FromBytes(Wire.Ids(u2));
                config[Wire.Scale] = scale;
                config[Wire.Clip] = _options.ClipNorm;
                return Reply(call, id, new FitInstructions(round, global, config.Freeze()), cancellationToken);
            }).ToArray();
            int length = global.Length + 1;
            sum = new ulong[length];
            var u3 = new List<string>();
            foreach ((string id, ConfigRecord? reply) in await Task.WhenAll(calls).ConfigureAwait(false))
            {
                if (reply is not null && reply.TryGetValue(Wire.Masked, out ConfigValue value) && value.Kind == ConfigValueKind.Bytes && value.AsBytes().Length == length * 8)
                {
                    ReadOnlySpan<ulong> y = MemoryMarshal.Cast<byte, ulong>(value.AsBytes().Span);
                    for (int i = 0; i < length; i++)
                    {
                        sum[i] += y[i];
                    }

                    u3.Add(id);
                }
                else
                {
                    dropped.Add(id);
                }
            }


            Require(u3.Count, threshold, "masked input");
            return u3;
        }

        // 4. Unmask: survivors reveal one share per client; the server removes the self masks of the contributors and the
        // pairwise masks of those who dropped after sharing.
        public async Task UnmaskAsync(List<string> u2, List<string> u3)
        {
            ConfigRecord unmask = Config("unmask", threshold);
            unmask[Wire.Survivors] = ConfigValue.FromBytes(Wire.Ids(u3));
            unmask.Freeze();
            Dictionary<string, ConfigRecord> revealed = await PhaseAsync(call, u3, round, empty, _ => unmask, dropped, cancellationToken).ConfigureAwait(false);
            var shares = new Dictionary<string, List<(int X, byte[] Share)>>(StringComparer.Ordinal);
            foreach ((string from, ConfigRecord reply) in revealed)
            {
                foreach ((string about, byte[][] fields) in Wire.Unpack(Wire.Bytes(reply, Wire.Unmask, "unmask reply"), "unmask reply"))
                {
                    bool expectSeed = u3.Contains(about);
                    if (fields.Length == 3 && fields[0].Length == 1 && fields[0][0] == (expectSeed ? (byte)'b' : (byte)'s') && fields[1].Length == 4 && u2.Contains(about)
                        && neighbours[from].Contains(about))
                    {
                        (shares.TryGetValue(about, out var list) ? list : shares[about] = new()).Add((BitConverter.ToInt32(fields[1]), fields[2]));
                    }
                }
            }

            Require(revealed.Count, threshold, "unmasking");
            foreach (string id in u3)
            {
                byte[] seed = Recover(shares, id, threshold, "self-mask seed");
                MaskStream.Apply(seed, round, sum, -1);
            }

            Dictionary<string, byte[]> publicMaskKeys = keys.ToDictionary(k => k.Item1, k => k.Item2[1], StringComparer.Ordinal);
            foreach (string gone in u2.Except(u3))
            {
                byte[] d = Recover(shares, gone, threshold, "mask key");
                using ECDiffieHellman key = ECDiffieHellman.Create(new ECParameters { Curve = ECCurve.NamedCurves.nistP256, D = d });
                foreach (string survivor in u3.Where(neighbours[gone].Contains))
                {
                    using var peer = ECDiffieHellman.Create();
                    peer.ImportSubjectPublicKeyInfo(publicMaskKeys[survivor], out _);
                    byte[] pairSeed = MaskStream.PairSeed(key, peer.PublicKey, "mask");

                    // The survivor added +mask when its id sorts before the dropped client's; take it back out.
                    MaskStream.Apply(pairSeed, round, sum, string.CompareOrdinal(survivor, gone) < 0 ? -1 : +1);
                }
            }

        }

        public (ModelParameters Next, long Examples) Finish(ModelParameters global, List<string> u3)
        {
            long examples = unchecked((long)sum[^1]);
            if (examples <= 0 || examples > _options.MaxExampleCount * u3.Count)
            {
                throw new SecureAggregationException($"The unmasked example count {examples} is impossible: a client or a share was inconsistent.");
            }

            ModelParameters next = global.Clone();
            Span<float> values = next.Values;
            var random = new DeterministicRandom(DeterministicRandom.Mix(_options.Seed, (ulong)round, 0x5EC));
            double noise = _options.NoiseMultiplier * _options.ClipNorm * _options.MaxExampleCount;
            for (int i = 0; i < values.Length; i++)
            {
                double weighted = unchecked((long)sum[i]) / scale;
                if (noise > 0)
                {
                    weighted += Normal.Sample(random, 0, noise);
                }

                values[i] = (float)(values[i] + (weighted / examples));
            }

            return (next, examples);
        }
    }

    private static byte[] Recover(Dictionary<string, List<(int X, byte[] Share)>> shares, string id, int threshold, string what)
    {
        if (!shares.TryGetValue(id, out var list) || list.Count < threshold)
        {
            throw new SecureAggregationException($"Only {list?.Count ?? 0} shares of client '{id}'s {what} arrived; {threshold} are needed.");
        }

        return Shamir.Combine(list.Take(threshold).ToList());
    }

    private static void Require(int have, int threshold, string phase)
    {
        if (have < threshold)
        {
            throw new SecureAggregationException($"Secure aggregation failed at {phase}: {have} clients remain, the threshold is {threshold}. Nothing was revealed.");
        }
    }

    private static ConfigRecord Config(string phase, int threshold, ConfigRecord? extra = null)
    {
        var config = extra is null ? new ConfigRecord() : extra.Copy();
        config[Wire.Phase] = phase;
        config[Wire.Threshold] = (long)threshold;
        return config;
    }

    /// <summary>Each client's neighbourhood (itself included): everyone, or a seeded random ring with k/2 on each side.</summary>
    internal Dictionary<string, HashSet<string>> Neighbourhoods(List<string> ids, int round)
    {
        var result = ids.ToDictionary(id => id, id => new HashSet<string>(StringComparer.Ordinal) { id }, StringComparer.Ordinal);
        if (_options.Neighbours is not int k || k + 1 >= ids.Count)
        {
            foreach (HashSet<string> set in result.Values)
            {
                set.UnionWith(ids);
            }

            return result;
        }

        var random = new DeterministicRandom(DeterministicRandom.Mix(_options.Seed, (ulong)round, 0x6E16));
        string[] ring = ids.ToArray();
        for (int i = ring.Length - 1; i > 0; i--)
        {
            int j = random.Next(i + 1);
            (ring[i], ring[j]) = (ring[j], ring[i]);
        }

        for (int i = 0; i < ring.Length; i++)
        {
            for (int step = 1; step <= k / 2; step++)
            {
                string other = ring[(i + step) % ring.Length];
                result[ring[i]].Add(other);
                result[other].Add(ring[i]);
            }
        }

        return result;
    }

    private static async Task<Dictionary<string, ConfigRecord>> PhaseAsync(
        Func<string, FitInstructions, CancellationToken, Task<ConfigRecord?>> call, IReadOnlyList<string> ids, int round, ModelParameters parameters,
        Func<string, ConfigRecord> config, List<string> dropped, CancellationToken cancellationToken)
    {
        (string Id, ConfigRecord? Reply)[] replies = await Task.WhenAll(ids.Select(id => Reply(call, id, new FitInstructions(round, parameters, config(id).Freeze()), cancellationToken))).ConfigureAwait(false);
        var result = new Dictionary<string, ConfigRecord>(StringComparer.Ordinal);
        foreach ((string id, ConfigRecord? reply) in replies)
        {
            if (reply is null)
            {
                dropped.Add(id);
            }
            else
            {
                result[id] = reply;
            }
        }

        return result;
    }

    private static async Task<(string, ConfigRecord?)> Reply(
        Func<string, FitInstructions, CancellationToken, Task<ConfigRecord?>> call, string id, FitInstructions instructions, CancellationToken cancellationToken) =>
        (id, await call(id, instructions, cancellationToken).ConfigureAwait(false));

    private async Task<ConfigRecord?> CallAsync(ITransport transport, string id, FitInstructions instructions, CancellationToken cancellationToken)
    {
        try
        {
            using FitResult result = await transport.GetConnection(id).FitAsync(instructions, cancellationToken)
                .WaitAsync(_options.PhaseTimeout, _timeProvider, cancellationToken).ConfigureAwait(false);
            return result.Metrics;
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            return null;
        }
    }
}
