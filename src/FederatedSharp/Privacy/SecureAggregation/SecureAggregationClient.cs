using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;
using FederatedSharp.Clients;
using FederatedSharp.Parameters;

namespace FederatedSharp.Privacy.SecureAggregation;

/// <summary>
/// The client side of secure aggregation (Bonawitz et al. 2017, "Practical Secure Aggregation for Privacy-Preserving
/// Machine Learning", honest-but-curious server): wraps any <see cref="IClient"/> and answers the four phases that
/// <see cref="SecureAggregationServer"/> drives through ordinary fit calls, so it works over every transport. Per round
/// it makes fresh ECDH P-256 key pairs (one to encrypt secret shares with AES-GCM, one to agree pairwise masks), splits
/// its mask key and a fresh self-mask seed into Shamir shares for the other clients, trains, and sends its weighted,
/// clipped, fixed-point update plus all masks: the server sees only a vector that is uniformly random on its own. The
/// instance keeps the round's secrets between the phases, so connect it as a long-lived client (not a virtual one).
/// </summary>
public sealed class SecureAggregationClient : IClient, IDisposable
{
    private static readonly TensorLayout Empty = TensorLayout.Create(new TensorSpec("secagg", 1));
    private readonly IClient _inner;
    private readonly string _clientId;
    private readonly Dictionary<int, RoundState> _rounds = new();
    private readonly object _gate = new();

    /// <summary>Wraps <paramref name="inner"/>.</summary>
    /// <param name="clientId">This client's id as the transport knows it (masks are ordered by id).</param>
    /// <param name="inner">The client that trains.</param>
    public SecureAggregationClient(string clientId, IClient inner)
    {
        ArgumentException.ThrowIfNullOrEmpty(clientId);
        _clientId = clientId;
        _inner = inner ?? throw new ArgumentNullException(nameof(inner));
    }

    /// <inheritdoc />
    public Task<ConfigRecord> GetPropertiesAsync(CancellationToken cancellationToken = default) => _inner.GetPropertiesAsync(cancellationToken);

    /// <inheritdoc />
    public Task<EvaluateResult> EvaluateAsync(EvaluateInstructions instructions, CancellationToken cancellationToken = default) =>
        _inner.EvaluateAsync(instructions, cancellationToken);

    /// <inheritdoc />
    public async Task<FitResult> FitAsync(FitInstructions instructions, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(instructions);
        if (!instructions.Config.TryGetValue(Wire.Phase, out ConfigValue phase))
        {
            return await _inner.FitAsync(instructions, cancellationToken).ConfigureAwait(false);
        }

        ConfigRecord reply = phase.AsString() switch
        {
            "advertise" => Advertise(instructions.Round),
            "share" => Share(instructions),
            "masked" => await MaskedAsync(instructions, cancellationToken).ConfigureAwait(false),
            "unmask" => Unmask(instructions),
            var other => throw new SecureAggregationException($"Unknown secure aggregation phase '{other}'."),
        };
        return new FitResult(ModelParameters.Create(Empty), 0, reply.Freeze());
    }

    /// <summary>Forgets every round's secrets.</summary>
    public void Dispose()
    {
        lock (_gate)
        {
            foreach (RoundState state in _rounds.Values)
            {
                state.Dispose();
            }

            _rounds.Clear();
        }

        (_inner as IDisposable)?.Dispose();
    }

    private ConfigRecord Advertise(int round)
    {
        var state = new RoundState();
        lock (_gate)
        {
            if (_rounds.Remove(round, out RoundState? old))
            {
                old.Dispose();
            }

            foreach (int stale in _rounds.Keys.Where(r => r < round - 1).ToList())
            {
                _rounds[stale].Dispose();
                _rounds.Remove(stale);
            }

            _rounds[round] = state;
        }

        return new ConfigRecord
        {
            [Wire.PublicKeys] = ConfigValue.FromBytes(Wire.Pack([(_clientId, [state.Encryption.PublicKey.ExportSubjectPublicKeyInfo(), state.Masking.PublicKey.ExportSubjectPublicKeyInfo()])])),
        };
    }

    private ConfigRecord Share(FitInstructions instructions)
    {
        RoundState state = State(instructions.Round);
        int threshold = (int)instructions.Config.GetInt64(Wire.Threshold, 0);
        List<(string Id, byte[][] Fields)> keys = Wire.Unpack(Wire.Bytes(instructions.Config, Wire.Keys, "share request"), "public keys");
        if (keys.Count < threshold || threshold < 2 || keys.All(k => k.Id != _clientId))
        {
            throw new SecureAggregationException($"Refusing to share: {keys.Count} clients for threshold {threshold}, or this client is not among them.");
        }

        state.Threshold = threshold;
        state.Peers = keys.Select(k => (k.Id, Encryption: ImportKey(k.Fields[0]), Masking: ImportKey(k.Fields[1]))).ToList();
        state.Index = state.Peers.FindIndex(p => p.Id == _clientId) + 1;

        // SecAgg+: share with and mask against the neighbours the server assigned (all clients when it assigned none).
        state.Neighbours = instructions.Config.TryGetValue(Wire.Neighbours, out ConfigValue neighbours)
            ? new HashSet<string>(Wire.ReadIds(neighbours.AsBytes(), "neighbours"), StringComparer.Ordinal) { _clientId }
            : new HashSet<string>(state.Peers.Select(p => p.Id), StringComparer.Ordinal);
        int[] recipients = Enumerable.Range(0, state.Peers.Count).Where(i => state.Neighbours.Contains(state.Peers[i].Id)).ToArray();
        if (recipients.Length < threshold || state.Neighbours.Any(n => state.Peers.All(p => p.Id != n)))
        {
            throw new SecureAggregationException($"Refusing to share: {recipients.Length} neighbours for threshold {threshold}, or a neighbour without keys.");
        }

        int[] xs = recipients.Select(i => i + 1).ToArray();
        byte[] maskKey = state.Masking.ExportParameters(true).D!;
        byte[][] maskShares = Shamir.Split(maskKey, xs, threshold);
        byte[][] seedShares = Shamir.Split(state.SelfSeed, xs, threshold);
        var outgoing = new List<(string, byte[][])>();
        for (int r = 0; r < recipients.Length; r++)
        {
            var peer = state.Peers[recipients[r]];
            byte[] plain = [.. maskShares[r], .. seedShares[r]];
            byte[] sealedShare = Seal(state, peer.Encryption, instructions.Round, _clientId, peer.Id, plain);
            outgoing.Add((peer.Id, [sealedShare]));
        }

        return new ConfigRecord { [Wire.Shares] = ConfigValue.FromBytes(Wire.Pack(outgoing)) };
    }

    private async Task<ConfigRecord> MaskedAsync(FitInstructions instructions, CancellationToken cancellationToken)
    {
        RoundState state = State(instructions.Round);
        ConfigRecord config = instructions.Config;
        List<string> sharers = Wire.ReadIds(Wire.Bytes(config, Wire.Sharers, "masked-input request"), "sharers");
        if (sharers.Count(state.Neighbours.Contains) < state.Threshold || !sharers.Contains(_clientId))
        {
            throw new SecureAggregationException($"Refusing to send a masked input: {sharers.Count} clients shared keys, threshold {state.Threshold}.");
        }

        foreach ((string from, byte[][] fields) in Wire.Unpack(Wire.Bytes(config, Wire.Inbox, "masked-input request"), "inbox"))
        {
            var sender = state.Peers.FirstOrDefault(p => p.Id == from);
            if (sender.Id is null || fields.Length != 1)
            {
                throw new SecureAggregationException($"A share from unknown client '{from}'.");
            }

            state.Received[from] = Open(state, sender.Encryption, instructions.Round, from, _clientId, fields[0]);
        }

        state.Sharers = sharers;
        double clip = config.GetDouble(Wire.Clip, 1.0);
        double scale = config.GetDouble(Wire.Scale, 0);
        if (!(scale > 0) || !(clip > 0))
        {
            throw new SecureAggregationException("The masked-input request has no valid scale or clip bound.");
        }

        using FitResult trained = await _inner.FitAsync(instructions, cancellationToken).ConfigureAwait(false);
        ReadOnlySpan<float> w = instructions.Parameters.Values;
        ReadOnlySpan<float> local = trained.Parameters.Values;
        double norm = 0;
        for (int i = 0; i < w.Length; i++)
        {
            double d = local[i] - (double)w[i];
            norm += d * d;
        }

        double factor = Math.Min(1.0, clip / Math.Max(Math.Sqrt(norm), 1e-300)) * trained.ExampleCount * scale;
        var vector = new ulong[w.Length + 1];
        for (int i = 0; i < w.Length; i++)
        {
            vector[i] = unchecked((ulong)(long)Math.Round((local[i] - (double)w[i]) * factor));
        }

        vector[^1] = (ulong)trained.ExampleCount;
        MaskStream.Apply(state.SelfSeed, instructions.Round, vector, +1);
        foreach ((string peer, _, ECDiffieHellmanPublicKey masking) in state.Peers)
        {
            if (peer != _clientId && sharers.Contains(peer) && state.Neighbours.Contains(peer))
            {
                byte[] seed = MaskStream.PairSeed(state.Masking, masking, "mask");
                MaskStream.Apply(seed, instructions.Round, vector, string.CompareOrdinal(_clientId, peer) < 0 ? +1 : -1);
            }
        }

        var reply = new ConfigRecord { [Wire.Masked] = ConfigValue.FromBytes(MemoryMarshal.AsBytes(vector.AsSpan())) };
        foreach (KeyValuePair<string, ConfigValue> metric in trained.Metrics)
        {
            reply[metric.Key] = metric.Value;
        }

        return reply;
    }

    private ConfigRecord Unmask(FitInstructions instructions)
    {
        RoundState state = State(instructions.Round);
        List<string> survivors = Wire.ReadIds(Wire.Bytes(instructions.Config, Wire.Survivors, "unmask request"), "survivors");
        if (survivors.Count(state.Neighbours.Contains) < state.Threshold || survivors.Any(s => !state.Sharers.Contains(s)))
        {
            throw new SecureAggregationException($"Refusing to unmask: {survivors.Count} survivors for threshold {state.Threshold}, or survivors that never shared keys.");
        }

        var reveal = new List<(string, byte[][])>();
        foreach (string peer in state.Sharers)
        {
            if (!state.Received.TryGetValue(peer, out byte[]? shares))
            {
                continue;
            }

            // Either the self-mask seed share (the peer's input counts) or the mask-key share (it dropped), never both.
            bool survived = survivors.Contains(peer);
            byte[] share = survived ? shares[Shamir.ShareBytes..] : shares[..Shamir.ShareBytes];
            reveal.Add((peer, [Encoding.ASCII.GetBytes(survived ? "b" : "s"), BitConverter.GetBytes(state.Index), share]));
        }

        return new ConfigRecord { [Wire.Unmask] = ConfigValue.FromBytes(Wire.Pack(reveal)) };
    }

    private RoundState State(int round)
    {
        lock (_gate)
        {
            return _rounds.TryGetValue(round, out RoundState? state)
                ? state
                : throw new SecureAggregationException($"No secure aggregation state for round {round} (the client restarted or skipped a phase).");
        }
    }

    private static ECDiffieHellmanPublicKey ImportKey(byte[] spki)
    {
        using var key = ECDiffieHellman.Create();
        key.ImportSubjectPublicKeyInfo(spki, out _);
        return key.PublicKey;
    }

    private static byte[] Seal(RoundState state, ECDiffieHellmanPublicKey recipient, int round, string from, string to, byte[] plain)
    {
        byte[] key = MaskStream.PairSeed(state.Encryption, recipient, "encrypt");
        using var aes = new AesGcm(key, 16);
        byte[] nonce = RandomNumberGenerator.GetBytes(12);
        byte[] cipher = new byte[plain.Length];
        byte[] tag = new byte[16];
        aes.Encrypt(nonce, plain, cipher, tag, Associated(round, from, to));
        return [.. nonce, .. tag, .. cipher];
    }

    private static byte[] Open(RoundState state, ECDiffieHellmanPublicKey sender, int round, string from, string to, byte[] sealedShare)
    {
        if (sealedShare.Length != 28 + (2 * Shamir.ShareBytes))
        {
            throw new SecureAggregationException($"A share from '{from}' has the wrong size.");
        }

        byte[] key = MaskStream.PairSeed(state.Encryption, sender, "encrypt");
        using var aes = new AesGcm(key, 16);
        byte[] plain = new byte[sealedShare.Length - 28];
        try
        {
            aes.Decrypt(sealedShare.AsSpan(0, 12), sealedShare.AsSpan(28), sealedShare.AsSpan(12, 16), plain, Associated(round, from, to));
        }
        catch (AuthenticationTagMismatchException)
        {
            throw new SecureAggregationException($"A share from '{from}' failed authentication (tampered or misrouted).");
        }

        return plain;
    }

    private static byte[] Associated(int round, string from, string to) => Encoding.UTF8.GetBytes($"{round}\n{from}\n{to}");

    private sealed class RoundState : IDisposable
    {
        public ECDiffieHellman Encryption { get; } = ECDiffieHellman.Create(ECCurve.NamedCurves.nistP256);

        public ECDiffieHellman Masking { get; } = ECDiffieHellman.Create(ECCurve.NamedCurves.nistP256);

        public byte[] SelfSeed { get; } = RandomNumberGenerator.GetBytes(32);

        public int Threshold { get; set; }

        public int Index { get; set; }

        public List<(string Id, ECDiffieHellmanPublicKey Encryption, ECDiffieHellmanPublicKey Masking)> Peers { get; set; } = new();

        public Dictionary<string, byte[]> Received { get; } = new(StringComparer.Ordinal);

        public List<string> Sharers { get; set; } = new();

        public HashSet<string> Neighbours { get; set; } = new(StringComparer.Ordinal);

        public void Dispose()
        {
            Encryption.Dispose();
            Masking.Dispose();
            CryptographicOperations.ZeroMemory(SelfSeed);
        }
    }
}
