using System.IO.Hashing;

namespace FederatedSharp.Serialization;

/// <summary>
/// The checksum at the end of an FSMP payload: XxHash3 from format version 2 on (twice XxHash64's speed, which bounds
/// the transports' throughput), XxHash64 in version 1 payloads, which stay readable.
/// </summary>
internal sealed class PayloadHash
{
    private readonly XxHash3? _version2;
    private readonly XxHash64? _version1;

    public PayloadHash(ushort version)
    {
        if (version == 1)
        {
            _version1 = new XxHash64();
        }
        else
        {
            _version2 = new XxHash3();
        }
    }

    public void Append(ReadOnlySpan<byte> data)
    {
        if (_version2 is not null)
        {
            _version2.Append(data);
        }
        else
        {
            _version1!.Append(data);
        }
    }

    public ulong Current => _version2?.GetCurrentHashAsUInt64() ?? _version1!.GetCurrentHashAsUInt64();
}
