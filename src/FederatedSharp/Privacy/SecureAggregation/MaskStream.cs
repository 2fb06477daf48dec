using System.Buffers.Binary;
using System.Numerics.Tensors;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;

namespace FederatedSharp.Privacy.SecureAggregation;

/// <summary>
/// Pseudo-random masks in Z_(2^64): AES-128 in counter mode keyed by HKDF-SHA256 of a 32-byte seed (and the round), so
/// two parties holding the same seed produce the same mask and nobody else can predict it.
/// </summary>
internal static class MaskStream
{
    private const int BlockValues = 16384;

    /// <summary>Adds (<paramref name="sign"/> = 1) or subtracts (-1) the mask of <paramref name="seed"/> to <paramref name="values"/>, mod 2^64.</summary>
    public static void Apply(ReadOnlySpan<byte> seed, long round, Span<ulong> values, int sign)
    {
        byte[] info = Encoding.ASCII.GetBytes("federatedsharp-secagg-mask-" + round.ToString(System.Globalization.CultureInfo.InvariantCulture));
        byte[] key = HKDF.DeriveKey(HashAlgorithmName.SHA256, seed.ToArray(), 16, salt: null, info);
        using Aes aes = Aes.Create();
        aes.Key = key;
        byte[] counters = new byte[BlockValues * 8];
        byte[] stream = new byte[BlockValues * 8];
        ulong block = 0;
        for (int offset = 0; offset < values.Length; offset += BlockValues)
        {
            int n = Math.Min(BlockValues, values.Length - offset);
            int bytes = ((n * 8) + 15) / 16 * 16;
            for (int b = 0; b < bytes; b += 16)
            {
                BinaryPrimitives.WriteUInt64LittleEndian(counters.AsSpan(b), block++);
                BinaryPrimitives.WriteUInt64LittleEndian(counters.AsSpan(b + 8), 0x5EC466);
            }

            aes.EncryptEcb(counters.AsSpan(0, bytes), stream.AsSpan(0, bytes), PaddingMode.None);
            Span<ulong> target = values.Slice(offset, n);
            Span<ulong> masks = MemoryMarshal.Cast<byte, ulong>(stream.AsSpan(0, n * 8));
            if (!BitConverter.IsLittleEndian)
            {
                BinaryPrimitives.ReverseEndianness(masks, masks);
            }

            // Wrapping addition and subtraction mod 2^64, vectorized.
            if (sign > 0)
            {
                TensorPrimitives.Add(target, masks, target);
            }
            else
            {
                TensorPrimitives.Subtract(target, masks, target);
            }
        }
    }

    /// <summary>The pairwise seed of two parties: HKDF of their ECDH agreement.</summary>
    public static byte[] PairSeed(ECDiffieHellman own, ECDiffieHellmanPublicKey other, string purpose)
    {
        byte[] shared = own.DeriveRawSecretAgreement(other);
        return HKDF.DeriveKey(HashAlgorithmName.SHA256, shared, 32, salt: null, Encoding.ASCII.GetBytes("federatedsharp-secagg-" + purpose));
    }
}
