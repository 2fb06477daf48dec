using FederatedSharp.Clients;

namespace FederatedSharp.Privacy.SecureAggregation;

/// <summary>The protocol's messages: lists of (client id, byte fields) packed into config byte values.</summary>
internal static class Wire
{
    public const string Phase = "secagg.phase";
    public const string Threshold = "secagg.threshold";
    public const string Scale = "secagg.scale";
    public const string Clip = "secagg.clip";
    public const string Keys = "secagg.keys";
    public const string Shares = "secagg.shares";
    public const string Inbox = "secagg.inbox";
    public const string Sharers = "secagg.sharers";
    public const string Masked = "secagg.masked";
    public const string Survivors = "secagg.survivors";
    public const string Unmask = "secagg.unmask";
    public const string PublicKeys = "secagg.public_keys";
    public const string Neighbours = "secagg.neighbours";

    public static byte[] Pack(IEnumerable<(string Id, byte[][] Fields)> entries)
    {
        using var buffer = new MemoryStream();
        using (var w = new BinaryWriter(buffer))
        {
            var list = entries.ToList();
            w.Write(list.Count);
            foreach ((string id, byte[][] fields) in list)
            {
                w.Write(id);
                w.Write(fields.Length);
                foreach (byte[] f in fields)
                {
                    w.Write(f.Length);
                    w.Write(f);
                }
            }
        }

        return buffer.ToArray();
    }

    /// <exception cref="SecureAggregationException">The message is malformed.</exception>
    public static List<(string Id, byte[][] Fields)> Unpack(ReadOnlyMemory<byte> bytes, string what)
    {
        try
        {
            using var r = new BinaryReader(new MemoryStream(bytes.ToArray()));
            int count = r.ReadInt32();
            if (count < 0 || count > 1_000_000)
            {
                throw new SecureAggregationException($"Malformed {what}: {count} entries.");
            }

            var list = new List<(string, byte[][])>(count);
            for (int i = 0; i < count; i++)
            {
                string id = r.ReadString();
                int fields = r.ReadInt32();
                if (fields < 0 || fields > 16)
                {
                    throw new SecureAggregationException($"Malformed {what}: {fields} fields.");
                }

                var values = new byte[fields][];
                for (int f = 0; f < fields; f++)
                {
                    int length = r.ReadInt32();
                    if (length < 0 || length > r.BaseStream.Length - r.BaseStream.Position)
                    {
                        throw new SecureAggregationException($"Malformed {what}: a field of {length} bytes.");
                    }

                    values[f] = r.ReadBytes(length);
                }

                list.Add((id, values));
            }

            if (r.BaseStream.Position != r.BaseStream.Length)
            {
                throw new SecureAggregationException($"Malformed {what}: trailing bytes.");
            }

            return list;
        }
        catch (Exception ex) when (ex is EndOfStreamException or IOException or FormatException)
        {
            throw new SecureAggregationException($"Malformed {what}: {ex.Message}");
        }
    }

    public static byte[] Bytes(ConfigRecord record, string key, string what) =>
        record.TryGetValue(key, out ConfigValue value) && value.Kind == ConfigValueKind.Bytes
            ? value.AsBytes().ToArray()
            : throw new SecureAggregationException($"The {what} is missing '{key}'.");

    public static byte[] Ids(IEnumerable<string> ids) => Pack(ids.Select(id => (id, Array.Empty<byte[]>())));

    public static List<string> ReadIds(ReadOnlyMemory<byte> bytes, string what) => Unpack(bytes, what).Select(e => e.Id).ToList();
}
