using System.Numerics;
using System.Security.Cryptography;

namespace FederatedSharp.Privacy.SecureAggregation;

/// <summary>
/// Shamir secret sharing over the prime field GF(2^127 - 1): a 32-byte secret is split into three 11-byte limbs, each
/// the constant term of a random polynomial of degree t - 1; share x holds the three polynomials' values at x. Any t
/// shares give the secret back by Lagrange interpolation at 0; fewer reveal nothing about it.
/// </summary>
internal static class Shamir
{
    private const int SecretBytes = 32;
    private const int LimbBytes = 11;
    private const int Limbs = 3;
    private const int ValueBytes = 16;
    private static readonly BigInteger Prime = (BigInteger.One << 127) - 1;

    /// <summary>The size of one share in bytes.</summary>
    public const int ShareBytes = Limbs * ValueBytes;

    /// <summary>Splits a 32-byte secret into shares for x = 1..<paramref name="count"/>.</summary>
    public static byte[][] Split(ReadOnlySpan<byte> secret, int count, int threshold) =>
        Split(secret, Enumerable.Range(1, count).ToArray(), threshold);

    /// <summary>Splits a 32-byte secret into shares for the given distinct, positive x values.</summary>
    public static byte[][] Split(ReadOnlySpan<byte> secret, int[] xs, int threshold)
    {
        int count = xs.Length;
        if (xs.Any(x => x < 1) || xs.Distinct().Count() != count)
        {
            throw new ArgumentException("Share coordinates must be distinct and positive.", nameof(xs));
        }

        if (secret.Length != SecretBytes)
        {
            throw new ArgumentException($"Secrets are {SecretBytes} bytes.", nameof(secret));
        }

        ArgumentOutOfRangeException.ThrowIfLessThan(threshold, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(count, threshold);
        var shares = new byte[count][];
        for (int x = 0; x < count; x++)
        {
            shares[x] = new byte[ShareBytes];
        }

        Span<byte> random = stackalloc byte[ValueBytes];
        for (int limb = 0; limb < Limbs; limb++)
        {
            int start = limb * LimbBytes;
            ReadOnlySpan<byte> part = secret.Slice(start, Math.Min(LimbBytes, SecretBytes - start));
            var coefficients = new BigInteger[threshold];
            coefficients[0] = new BigInteger(part, isUnsigned: true, isBigEndian: true);
            for (int k = 1; k < threshold; k++)
            {
                RandomNumberGenerator.Fill(random);
                coefficients[k] = new BigInteger(random, isUnsigned: true, isBigEndian: true) % Prime;
            }

            for (int s = 0; s < count; s++)
            {
                int x = xs[s];
                BigInteger y = BigInteger.Zero;
                for (int k = threshold - 1; k >= 0; k--)
                {
                    y = ((y * x) + coefficients[k]) % Prime;
                }

                Align(shares[s].AsSpan(limb * ValueBytes, ValueBytes), y);
            }
        }

        return shares;
    }

    /// <summary>Recovers the secret from at least t shares given as (x, share).</summary>
    /// <exception cref="SecureAggregationException">A share is malformed or the x values repeat.</exception>
    public static byte[] Combine(IReadOnlyList<(int X, byte[] Share)> shares)
    {
        if (shares.Select(s => s.X).Distinct().Count() != shares.Count || shares.Any(s => s.X < 1 || s.Share.Length != ShareBytes))
        {
            throw new SecureAggregationException("Malformed or repeated secret shares.");
        }

        byte[] secret = new byte[SecretBytes];
        for (int limb = 0; limb < Limbs; limb++)
        {
            BigInteger value = BigInteger.Zero;
            for (int i = 0; i < shares.Count; i++)
            {
                BigInteger y = new(shares[i].Share.AsSpan(limb * ValueBytes, ValueBytes), isUnsigned: true, isBigEndian: true);
                BigInteger numerator = BigInteger.One;
                BigInteger denominator = BigInteger.One;
                for (int j = 0; j < shares.Count; j++)
                {
                    if (j != i)
                    {
                        numerator = numerator * (Prime - shares[j].X) % Prime;
                        denominator = denominator * ((shares[i].X - shares[j].X + Prime) % Prime) % Prime;
                    }
                }

                BigInteger lagrange = numerator * BigInteger.ModPow(denominator, Prime - 2, Prime) % Prime;
                value = (value + (y * lagrange)) % Prime;
            }

            int start = limb * LimbBytes;
            int length = Math.Min(LimbBytes, SecretBytes - start);
            byte[] bytes = value.ToByteArray(isUnsigned: true, isBigEndian: true);
            if (bytes.Length > length)
            {
                throw new SecureAggregationException("The shares do not belong to one secret.");
            }

            bytes.CopyTo(secret.AsSpan(start + length - bytes.Length));
        }

        return secret;
    }

    // BigInteger.TryWriteBytes writes the minimal big-endian form at the start; move it to the end of the field.
    private static void Align(Span<byte> field, BigInteger value)
    {
        int length = value.GetByteCount(isUnsigned: true);
        field.Clear();
        value.TryWriteBytes(field[(ValueBytes - length)..], out _, isUnsigned: true, isBigEndian: true);
    }
}
