using System.Buffers.Binary;
using System.Globalization;
using System.IO.Hashing;
using System.Text;
using System.Text.Json;
using FederatedSharp.Aggregation;
using FederatedSharp.Parameters;
using FederatedSharp.Serialization;

namespace FederatedSharp.Server.Checkpoints;

/// <summary>
/// Checkpoints as files <c>checkpoint-000042.fsck</c> in a folder. Each is written to a temporary file, flushed to the
/// disk (fsync) and renamed over its final name, so a crash leaves either the old set or the new file, never half a
/// file; the last <see cref="Keep"/> are kept. The format (magic <c>FSCK</c>, version, round, configuration
/// fingerprint, then length-prefixed sections: parameters in <see cref="BinaryModelSerializer"/> format, strategy
/// state, history JSON, client health JSON, and an XxHash64 of everything before it) is checked on load: a truncated
/// or corrupt newest file is skipped (reported in <c>Skipped</c>) and the previous one used.
/// </summary>
public sealed class FileCheckpointStore : ICheckpointStore
{
    private const ushort FormatVersion = 2;
    private static ReadOnlySpan<byte> Magic => "FSCK"u8;
    private readonly BinaryModelSerializer _serializer = new();

    /// <summary>Creates a store.</summary>
    /// <param name="directory">The folder (created when missing).</param>
    /// <param name="keep">How many checkpoints to keep (default 3).</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="keep"/> is not positive.</exception>
    public FileCheckpointStore(string directory, int keep = 3)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(keep);
        Directory = directory;
        Keep = keep;
    }

    /// <summary>The folder.</summary>
    public string Directory { get; }

    /// <summary>How many checkpoints are kept.</summary>
    public int Keep { get; }

    /// <summary>The checkpoint files present, newest first.</summary>
    /// <returns>Full paths.</returns>
    public IReadOnlyList<string> ListFiles() =>
        System.IO.Directory.Exists(Directory)
            ? System.IO.Directory.GetFiles(Directory, "checkpoint-*.fsck").OrderByDescending(f => f, StringComparer.Ordinal).ToArray()
            : Array.Empty<string>();

    /// <inheritdoc />
    public async Task SaveAsync(FederationCheckpoint checkpoint, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(checkpoint);
        System.IO.Directory.CreateDirectory(Directory);
        string final = Path.Combine(Directory, $"checkpoint-{checkpoint.Round.ToString("D6", CultureInfo.InvariantCulture)}.fsck");
        string temp = final + ".tmp";
        var hasher = new XxHash64();
        var file = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16, FileOptions.Asynchronous);
        await using (file.ConfigureAwait(false))
        {
            async Task WriteAsync(ReadOnlyMemory<byte> bytes)
            {
                hasher.Append(bytes.Span);
                await file.WriteAsync(bytes, cancellationToken).ConfigureAwait(false);
            }

            byte[] header = new byte[4 + 2 + 2 + 4 + 8 + 4];
            Magic.CopyTo(header);
            BinaryPrimitives.WriteUInt16LittleEndian(header.AsSpan(4), FormatVersion);
            BinaryPrimitives.WriteInt32LittleEndian(header.AsSpan(8), checkpoint.Round);
            BinaryPrimitives.WriteUInt64LittleEndian(header.AsSpan(12), checkpoint.ConfigurationHash);
            BinaryPrimitives.WriteInt32LittleEndian(header.AsSpan(20), checkpoint.ConsecutiveFailedRounds);
            await WriteAsync(header).ConfigureAwait(false);
            await WriteAsync(Section(_serializer.SerializeToArray(checkpoint.Parameters))).ConfigureAwait(false);
            await WriteAsync(Section(checkpoint.AggregatorState?.ToBytes() ?? Array.Empty<byte>())).ConfigureAwait(false);
            await WriteAsync(Section(HistoryJson.Write(checkpoint.History))).ConfigureAwait(false);
            await WriteAsync(Section(WriteClientState(checkpoint.ClientState))).ConfigureAwait(false);
            await WriteAsync(Section(WriteFeatureStates(checkpoint.FeatureStates))).ConfigureAwait(false);
            await WriteAsync(Section(checkpoint.ClientStates ?? Array.Empty<byte>())).ConfigureAwait(false);
            byte[] checksum = new byte[8];
            BinaryPrimitives.WriteUInt64LittleEndian(checksum, hasher.GetCurrentHashAsUInt64());
            await file.WriteAsync(checksum, cancellationToken).ConfigureAwait(false);
            await file.FlushAsync(cancellationToken).ConfigureAwait(false);
            file.Flush(flushToDisk: true);
        }

        File.Move(temp, final, overwrite: true);
        foreach (string old in ListFiles().Skip(Keep))
        {
            File.Delete(old);
        }
    }

    /// <inheritdoc />
    public async Task<(FederationCheckpoint? Checkpoint, IReadOnlyList<string> Skipped)> LoadLatestAsync(CancellationToken cancellationToken = default)
    {
        var skipped = new List<string>();
        foreach (string path in ListFiles())
        {
            try
            {
                byte[] bytes = await File.ReadAllBytesAsync(path, cancellationToken).ConfigureAwait(false);
                return (Read(bytes), skipped);
            }
            catch (CheckpointException ex)
            {
                skipped.Add($"{Path.GetFileName(path)}: {ex.Message}");
            }
        }

        return (null, skipped);
    }

    /// <summary>Reads a checkpoint from its bytes.</summary>
    /// <param name="bytes">A whole checkpoint file.</param>
    /// <returns>The checkpoint (the caller owns it).</returns>
    /// <exception cref="CheckpointException">The bytes are truncated, corrupt or in another format.</exception>
    public FederationCheckpoint Read(ReadOnlySpan<byte> bytes)
    {
        const int headerLength = 24;
        if (bytes.Length < headerLength + 8 || !bytes[..4].SequenceEqual(Magic))
        {
            throw new CheckpointException($"Not a FederatedSharp checkpoint, or truncated ({bytes.Length} bytes).");
        }

        ulong stored = BinaryPrimitives.ReadUInt64LittleEndian(bytes[^8..]);
        ulong actual = XxHash64.HashToUInt64(bytes[..^8]);
        if (stored != actual)
        {
            throw new CheckpointException($"Checksum mismatch (stored {stored:x16}, computed {actual:x16}): the file is truncated or corrupt.");
        }

        ushort version = BinaryPrimitives.ReadUInt16LittleEndian(bytes[4..]);
        if (version is not (1 or FormatVersion))
        {
            throw new CheckpointException($"Unsupported checkpoint version {version}.");
        }

        int round = BinaryPrimitives.ReadInt32LittleEndian(bytes[8..]);
        ulong configurationHash = BinaryPrimitives.ReadUInt64LittleEndian(bytes[12..]);
        int consecutiveFailed = BinaryPrimitives.ReadInt32LittleEndian(bytes[20..]);
        int position = headerLength;
        ReadOnlySpan<byte> body = bytes[..^8];
        ReadOnlySpan<byte> parameters = NextSection(body, ref position);
        ReadOnlySpan<byte> state = NextSection(body, ref position);
        ReadOnlySpan<byte> history = NextSection(body, ref position);
        ReadOnlySpan<byte> clients = NextSection(body, ref position);
        ReadOnlySpan<byte> features = version >= 2 ? NextSection(body, ref position) : default;
        ReadOnlySpan<byte> clientStates = version >= 2 ? NextSection(body, ref position) : default;
        ModelParameters? p = null;
        try
        {
            p = _serializer.Deserialize(parameters.ToArray());
            return new FederationCheckpoint(round, configurationHash, p, state.IsEmpty ? null : AggregatorState.FromBytes(state),
                HistoryJson.Read(history), ReadClientState(clients), consecutiveFailed)
            {
                FeatureStates = ReadFeatureStates(features),
                ClientStates = version >= 2 && !clientStates.IsEmpty ? clientStates.ToArray() : null,
            };
        }
        catch (Exception ex) when (ex is ModelFormatException or JsonException or FormatException or KeyNotFoundException or InvalidOperationException)
        {
            p?.Dispose();
            throw new CheckpointException($"Corrupt checkpoint section: {ex.Message}", ex);
        }
    }

    private static byte[] Section(byte[] payload)
    {
        byte[] section = new byte[8 + payload.Length];
        BinaryPrimitives.WriteInt64LittleEndian(section, payload.Length);
        payload.CopyTo(section, 8);
        return section;
    }

    private static ReadOnlySpan<byte> NextSection(ReadOnlySpan<byte> body, ref int position)
    {
        if (position + 8 > body.Length)
        {
            throw new CheckpointException("Truncated checkpoint: a section header is missing.");
        }

        long length = BinaryPrimitives.ReadInt64LittleEndian(body[position..]);
        position += 8;
        if (length < 0 || position + length > body.Length)
        {
            throw new CheckpointException($"Truncated checkpoint: a section declares {length} bytes, {body.Length - position} remain.");
        }

        ReadOnlySpan<byte> section = body.Slice(position, (int)length);
        position += (int)length;
        return section;
    }

    private static byte[] WriteFeatureStates(IReadOnlyDictionary<string, AggregatorState> states)
    {
        using var stream = new MemoryStream();
        foreach ((string name, AggregatorState state) in states.OrderBy(p => p.Key, StringComparer.Ordinal))
        {
            stream.Write(Section(System.Text.Encoding.UTF8.GetBytes(name)));
            stream.Write(Section(state.ToBytes()));
        }

        return stream.ToArray();
    }

    private static Dictionary<string, AggregatorState> ReadFeatureStates(ReadOnlySpan<byte> bytes)
    {
        var states = new Dictionary<string, AggregatorState>(StringComparer.Ordinal);
        int position = 0;
        while (position < bytes.Length)
        {
            string name = System.Text.Encoding.UTF8.GetString(NextSection(bytes, ref position));
            states[name] = AggregatorState.FromBytes(NextSection(bytes, ref position));
        }

        return states;
    }

    private static byte[] WriteClientState(IReadOnlyDictionary<string, ClientHealth> state) =>
        JsonSerializer.SerializeToUtf8Bytes(state.OrderBy(p => p.Key, StringComparer.Ordinal)
            .ToDictionary(p => p.Key, p => new[] { p.Value.ConsecutiveFailures, p.Value.QuarantinedUntilRound }));

    private static Dictionary<string, ClientHealth> ReadClientState(ReadOnlySpan<byte> json)
    {
        var raw = JsonSerializer.Deserialize<Dictionary<string, int[]>>(json) ?? new Dictionary<string, int[]>();
        return raw.ToDictionary(p => p.Key, p => new ClientHealth(p.Value[0], p.Value[1]), StringComparer.Ordinal);
    }
}
