using System.Buffers.Binary;
using System.Numerics.Tensors;
using System.Runtime.InteropServices;

namespace FederatedSharp.Serialization;

/// <summary>Encoding and decoding of value chunks for each <see cref="ElementEncoding"/> (little-endian).</summary>
internal static class ElementCodec
{
    public const string Supported = "1 (float32), 2 (float16), 3 (bfloat16), 4 (int8), 5 (int4), 6 (nf4)";

    /// <summary>Bytes per value of the per-value encodings (the block encodings have none: use <see cref="EncodedBytes"/>).</summary>
    public static int BytesPerValue(ElementEncoding encoding) => encoding switch
    {
        ElementEncoding.Float32 => 4,
        ElementEncoding.Float16 or ElementEncoding.BFloat16 => 2,
        ElementEncoding.Int8 => 1,
        _ => throw new ModelFormatException($"Element encoding {(byte)encoding} has no fixed size per value; supported here: 1 (float32), 2 (float16), 3 (bfloat16), 4 (int8)."),
    };

    /// <summary>The bytes <paramref name="count"/> values of one tensor take (the block encodings include their block scales).</summary>
    public static long EncodedBytes(ElementEncoding encoding, long count) => encoding switch
    {
        ElementEncoding.Float32 => 4 * count,
        ElementEncoding.Float16 or ElementEncoding.BFloat16 => 2 * count,
        ElementEncoding.Int8 => count,
        ElementEncoding.Int4 or ElementEncoding.NF4 => BlockQuantization.EncodedBytes(count),
        _ => throw new ModelFormatException($"Unsupported element encoding {(byte)encoding}; supported: {Supported}."),
    };

    /// <summary>Bytes of per-tensor header (the int8 scale).</summary>
    public static int TensorHeaderBytes(ElementEncoding encoding) => encoding == ElementEncoding.Int8 ? 4 : 0;

    public static bool IsKnown(byte encoding) => encoding is >= 1 and <= 6;

    /// <summary>The int8 scale of a tensor: max |x| / 127 (1 for an all-zero tensor).</summary>
    public static float Int8Scale(ReadOnlySpan<float> values, string tensor)
    {
        if (!values.IsEmpty && !TensorPrimitives.IsFiniteAll(values))
        {
            throw new ArgumentException($"Tensor '{tensor}' holds NaN or infinity, which the int8 encoding cannot represent.");
        }

        float max = values.IsEmpty ? 0 : TensorPrimitives.MaxMagnitude(values);
        return max == 0 ? 1 : Math.Abs(max) / 127f;
    }

    /// <summary>Encodes a chunk of one tensor (for the block encodings, a whole number of blocks unless it ends the tensor).</summary>
    public static void Encode(ReadOnlySpan<float> values, Span<byte> destination, ElementEncoding encoding, float scale, string tensor = "")
    {
        switch (encoding)
        {
            case ElementEncoding.Int4 or ElementEncoding.NF4:
                BlockQuantization.Encode(values, destination, encoding, tensor);
                break;
            case ElementEncoding.Float32:
                MemoryMarshal.AsBytes(values).CopyTo(destination);
                if (!BitConverter.IsLittleEndian)
                {
                    Span<int> ints = MemoryMarshal.Cast<byte, int>(destination[..(values.Length * 4)]);
                    BinaryPrimitives.ReverseEndianness(ints, ints);
                }

                break;
            case ElementEncoding.Float16:
                for (int i = 0; i < values.Length; i++)
                {
                    BinaryPrimitives.WriteHalfLittleEndian(destination[(2 * i)..], (Half)values[i]);
                }

                break;
            case ElementEncoding.BFloat16:
                for (int i = 0; i < values.Length; i++)
                {
                    BinaryPrimitives.WriteUInt16LittleEndian(destination[(2 * i)..], ToBFloat16(values[i]));
                }

                break;
            default:
                float inverse = 1 / scale;
                for (int i = 0; i < values.Length; i++)
                {
                    destination[i] = (byte)(sbyte)Math.Clamp(MathF.Round(values[i] * inverse), -127f, 127f);
                }

                break;
        }
    }

    /// <summary>Decodes a chunk of one tensor.</summary>
    public static void Decode(ReadOnlySpan<byte> source, Span<float> values, ElementEncoding encoding, float scale, string tensor = "")
    {
        switch (encoding)
        {
            case ElementEncoding.Int4 or ElementEncoding.NF4:
                BlockQuantization.Decode(source, values, encoding, tensor);
                break;
            case ElementEncoding.Float32:
                source[..(values.Length * 4)].CopyTo(MemoryMarshal.AsBytes(values));
                if (!BitConverter.IsLittleEndian)
                {
                    Span<int> ints = MemoryMarshal.Cast<float, int>(values);
                    BinaryPrimitives.ReverseEndianness(ints, ints);
                }

                break;
            case ElementEncoding.Float16:
                for (int i = 0; i < values.Length; i++)
                {
                    values[i] = (float)BinaryPrimitives.ReadHalfLittleEndian(source[(2 * i)..]);
                }

                break;
            case ElementEncoding.BFloat16:
                for (int i = 0; i < values.Length; i++)
                {
                    values[i] = FromBFloat16(BinaryPrimitives.ReadUInt16LittleEndian(source[(2 * i)..]));
                }

                break;
            default:
                for (int i = 0; i < values.Length; i++)
                {
                    values[i] = (sbyte)source[i] * scale;
                }

                break;
        }
    }

    /// <summary>float32 to bfloat16, rounding to nearest even; NaN stays a (quiet) NaN.</summary>
    public static ushort ToBFloat16(float value)
    {
        uint bits = BitConverter.SingleToUInt32Bits(value);
        if (float.IsNaN(value))
        {
            return (ushort)((bits >> 16) | 0x40);
        }

        uint rounding = 0x7FFF + ((bits >> 16) & 1);
        return (ushort)((bits + rounding) >> 16);
    }

    public static float FromBFloat16(ushort value) => BitConverter.UInt32BitsToSingle((uint)value << 16);
}
