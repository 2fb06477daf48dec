using System.Buffers.Binary;
using System.Numerics.Tensors;

namespace FederatedSharp.Serialization;

/// <summary>
/// Block-wise 4-bit quantization (<see cref="ElementEncoding.Int4"/> and <see cref="ElementEncoding.NF4"/>): every
/// block of <see cref="BlockSize"/> values stores its absolute maximum as a float32, then one 4-bit code per value,
/// two per byte (the earlier value in the low nibble). A block of 64 values takes 36 bytes: 4.5 bits per value,
/// 7.1 times fewer than float32. Blocks never straddle tensors, and a tensor's last block may be short.
/// </summary>
internal static class BlockQuantization
{
    /// <summary>Values per block.</summary>
    public const int BlockSize = 64;

    /// <summary>
    /// The 16 NormalFloat-4 levels of QLoRA (Dettmers et al., 2023): quantiles of a standard normal scaled to
    /// [-1, 1], with an exact zero. Weights and updates are close to normal, so these levels spend resolution
    /// where the values are.
    /// </summary>
    public static readonly float[] NF4Levels =
    [
        -1.0f, -0.6961928f, -0.52507305f, -0.3949175f, -0.28444138f, -0.18477343f, -0.091050036f, 0f,
        0.0795803f, 0.1609302f, 0.2461123f, 0.33791524f, 0.44070983f, 0.562617f, 0.72295684f, 1.0f,
    ];

    // Midpoints between consecutive NF4 levels: a value's code is the number of midpoints below it.
    private static readonly float[] NF4Midpoints = Enumerable.Range(0, 15).Select(i => (NF4Levels[i] + NF4Levels[i + 1]) / 2).ToArray();

    /// <summary>Whether <paramref name="encoding"/> is one of the block encodings.</summary>
    public static bool IsBlockEncoding(ElementEncoding encoding) => encoding is ElementEncoding.Int4 or ElementEncoding.NF4;

    /// <summary>The encoded size of <paramref name="count"/> values: a scale per block and half a byte per value.</summary>
    public static long EncodedBytes(long count) => (((count + BlockSize - 1) / BlockSize) * 4) + ((count + 1) / 2);

    /// <summary>Encodes values, a whole number of blocks unless this is the tensor's end.</summary>
    /// <exception cref="ArgumentException">A value is NaN or infinite.</exception>
    public static void Encode(ReadOnlySpan<float> values, Span<byte> destination, ElementEncoding encoding, string tensor)
    {
        if (!values.IsEmpty && !TensorPrimitives.IsFiniteAll(values))
        {
            throw new ArgumentException($"Tensor '{tensor}' holds NaN or infinity, which the {encoding} encoding cannot represent.");
        }

        int at = 0;
        for (int start = 0; start < values.Length; start += BlockSize)
        {
            ReadOnlySpan<float> block = values.Slice(start, Math.Min(BlockSize, values.Length - start));
            float absMax = Math.Abs(TensorPrimitives.MaxMagnitude(block));
            BinaryPrimitives.WriteSingleLittleEndian(destination[at..], absMax);
            at += 4;
            float inverse = absMax == 0 ? 0 : 1 / absMax;
            for (int i = 0; i < block.Length; i += 2)
            {
                int low = Code(block[i] * inverse, encoding);
                int high = i + 1 < block.Length ? Code(block[i + 1] * inverse, encoding) : 0;
                destination[at++] = (byte)(low | (high << 4));
            }
        }
    }

    /// <summary>Decodes what <see cref="Encode"/> wrote.</summary>
    /// <exception cref="ModelFormatException">A block's scale is negative or not finite.</exception>
    public static void Decode(ReadOnlySpan<byte> source, Span<float> values, ElementEncoding encoding, string tensor)
    {
        int at = 0;
        for (int start = 0; start < values.Length; start += BlockSize)
        {
            Span<float> block = values.Slice(start, Math.Min(BlockSize, values.Length - start));
            float absMax = BinaryPrimitives.ReadSingleLittleEndian(source[at..]);
            if (!float.IsFinite(absMax) || absMax < 0)
            {
                throw new ModelFormatException($"Corrupt model payload: tensor '{tensor}' has a {encoding} block scale of {absMax}.");
            }

            at += 4;
            for (int i = 0; i < block.Length; i += 2)
            {
                byte pair = source[at++];
                block[i] = Level(pair & 0xF, encoding) * absMax;
                if (i + 1 < block.Length)
                {
                    block[i + 1] = Level(pair >> 4, encoding) * absMax;
                }
            }
        }
    }

    /// <summary>The code of a value already divided by its block's absolute maximum (so in [-1, 1]).</summary>
    private static int Code(float normalized, ElementEncoding encoding)
    {
        if (encoding == ElementEncoding.Int4)
        {
            // Symmetric levels -7..7 in steps of 1/7, stored as 1..15 (code 8 is zero).
            return (int)MathF.Round(Math.Clamp(normalized, -1f, 1f) * 7f, MidpointRounding.AwayFromZero) + 8;
        }

        int code = 0;
        while (code < NF4Midpoints.Length && normalized > NF4Midpoints[code])
        {
            code++;
        }

        return code;
    }

    private static float Level(int code, ElementEncoding encoding) =>
        encoding == ElementEncoding.Int4 ? (code - 8) / 7f : NF4Levels[code];
}
