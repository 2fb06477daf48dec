using System.IO.Hashing;
using System.Runtime.InteropServices;

namespace FederatedSharp.Compression;

/// <summary>The identity of a downlink reference model: XxHash3 of its float32 values, as a long for the configuration.</summary>
internal static class ReferenceHash
{
    public static long Of(ReadOnlySpan<float> values) => unchecked((long)XxHash3.HashToUInt64(MemoryMarshal.AsBytes(values)));
}
