using System.Buffers;
using System.Buffers.Binary;
using System.IO.Hashing;

namespace FederatedSharp.Serialization;

/// <summary>
/// One tensor of <see cref="SparseModelSerializer"/>'s format: a mode byte (dense, indices or bitmap, and whether the
/// values are float16), the number of non-zero values, then the data, each choice the smallest that is exact.
/// </summary>
internal static class SparseTensorCodec
{
    private const byte Dense = 0;
    private const byte Indexed = 1;
    private const byte Bitmap = 2;
    private const byte HalfValues = 0x10;

    /// <summary>The bytes <paramref name="values"/> take, with their 5-byte head.</summary>
    public static long EncodedBytes(ReadOnlySpan<float> values)
    {
        Mode(values.Length, CountNonZero(values), ValueWidth(values), out long bytes);
        return 5 + bytes;
    }

    // Zeros of either sign are left out (and read back as +0); NaN is a value like any other.
    public static int CountNonZero(ReadOnlySpan<float> values)
    {
        int nonZero = 0;
        foreach (float value in values)
        {
            nonZero += value != 0 ? 1 : 0;
        }

        return nonZero;
    }

    // 2 when every non-zero value is exactly a float16 (and at least one is non-zero), else 4.
    public static int ValueWidth(ReadOnlySpan<float> values)
    {
        bool any = false;
        foreach (float value in values)
        {
            if (value != 0)
            {
                if ((float)(Half)value != value)
                {
                    return 4;
                }

                any = true;
            }
        }

        return any ? 2 : 4;
    }

    // Dense: a value each. Indexed: 4 bytes and a value per non-zero. Bitmap: a bit a value and a value per non-zero.
    public static byte Mode(int length, int nonZero, int width, out long bytes)
    {
        long dense = (long)width * length, indexed = (4L + width) * nonZero, bitmap = ((length + 7) / 8) + ((long)width * nonZero);
        (byte mode, bytes) = dense <= indexed && dense <= bitmap ? (Dense, dense) : indexed <= bitmap ? (Indexed, indexed) : (Bitmap, bitmap);
        return (byte)(mode | (width == 2 ? HalfValues : 0));
    }

    private static long DataBytes(byte mode, int length, int nonZero)
    {
        int width = (mode & HalfValues) != 0 ? 2 : 4;
        return (mode & 0x0F) switch
        {
            Dense => (long)width * length,
            Indexed => (4L + width) * nonZero,
            _ => ((length + 7) / 8) + ((long)width * nonZero),
        };
    }

    private static void WriteValue(Span<byte> destination, float value, int width)
    {
        if (width == 2)
        {
            BinaryPrimitives.WriteHalfLittleEndian(destination, (Half)value);
        }
        else
        {
            BinaryPrimitives.WriteSingleLittleEndian(destination, value);
        }
    }

    private static float ReadValue(ReadOnlySpan<byte> source, int width) =>
        width == 2 ? (float)BinaryPrimitives.ReadHalfLittleEndian(source) : BinaryPrimitives.ReadSingleLittleEndian(source);

    public static void WriteTensor(ReadOnlySpan<float> values, IBufferWriter<byte> destination, XxHash3 hash)
    {
        int nonZero = CountNonZero(values);
        int width = ValueWidth(values);
        byte mode = Mode(values.Length, nonZero, width, out long bytes);
        Span<byte> head = destination.GetSpan(5)[..5];
        head[0] = mode;
        BinaryPrimitives.WriteInt32LittleEndian(head[1..], nonZero);
        Put(destination, head, hash);
        byte[] data = new byte[bytes];
        switch (mode & 0x0F)
        {
            case Dense:
                for (int i = 0; i < values.Length; i++)
                {
                    WriteValue(data.AsSpan(width * i), values[i], width);
                }

                break;
            case Indexed:
                for (int i = 0, at = 0; i < values.Length; i++)
                {
                    if (values[i] != 0)
                    {
                        BinaryPrimitives.WriteInt32LittleEndian(data.AsSpan(4 * at), i);
                        WriteValue(data.AsSpan((4 * nonZero) + (width * at)), values[i], width);
                        at++;
                    }
                }

                break;
            default:
                int bitmapBytes = (values.Length + 7) / 8;
                for (int i = 0, at = 0; i < values.Length; i++)
                {
                    if (values[i] != 0)
                    {
                        data[i >> 3] |= (byte)(1 << (i & 7));
                        WriteValue(data.AsSpan(bitmapBytes + (width * at++)), values[i], width);
                    }
                }

                break;
        }

        Put(destination, data, hash);
    }

    public static void ReadTensor(ref SparseSpanReader reader, Span<float> values, string name)
    {
        byte mode = reader.Byte();
        int nonZero = reader.Int();
        int width = (mode & HalfValues) != 0 ? 2 : 4;
        if ((mode & ~HalfValues) > Bitmap || nonZero < 0 || nonZero > values.Length)
        {
            throw new ModelFormatException($"Tensor '{name}': mode {mode} with {nonZero} non-zero values of {values.Length} is invalid.");
        }

        ReadOnlySpan<byte> data = reader.Take(DataBytes(mode, values.Length, nonZero), name);
        switch (mode & 0x0F)
        {
            case Dense:
                for (int i = 0; i < values.Length; i++)
                {
                    values[i] = ReadValue(data[(width * i)..], width);
                }

                return;
            case Indexed:
                for (int at = 0, previous = -1; at < nonZero; at++)
                {
                    int index = BinaryPrimitives.ReadInt32LittleEndian(data[(4 * at)..]);
                    if (index <= previous || index >= values.Length)
                    {
                        throw new ModelFormatException($"Tensor '{name}': index {index} is out of order or outside 0..{values.Length - 1}.");
                    }

                    values[index] = ReadValue(data[((4 * nonZero) + (width * at))..], width);
                    previous = index;
                }

                return;
            default:
                int bitmapBytes = (values.Length + 7) / 8;
                int seen = 0;
                for (int i = 0; i < values.Length; i++)
                {
                    if ((data[i >> 3] & (1 << (i & 7))) != 0)
                    {
                        if (seen == nonZero)
                        {
                            throw new ModelFormatException($"Tensor '{name}': the bitmap marks more than the {nonZero} values announced.");
                        }

                        values[i] = ReadValue(data[(bitmapBytes + (width * seen++))..], width);
                    }
                }

                if (seen != nonZero)
                {
                    throw new ModelFormatException($"Tensor '{name}': the bitmap marks {seen} values, {nonZero} were announced.");
                }

                return;
        }
    }

    /// <summary>Writes bytes and hashes them.</summary>
    public static void Put(IBufferWriter<byte> destination, ReadOnlySpan<byte> bytes, XxHash3 hash)
    {
        hash.Append(bytes);
        destination.Write(bytes);
    }
}

/// <summary>Reads a sparse payload front to back; running past its end is a truncation, named.</summary>
internal ref struct SparseSpanReader(ReadOnlySpan<byte> span)
{
    private ReadOnlySpan<byte> _rest = span;

    public readonly bool IsEmpty => _rest.IsEmpty;

    public readonly int Remaining => _rest.Length;

    public ReadOnlySpan<byte> Take(long count, string what)
    {
        if (count < 0 || count > _rest.Length)
        {
            throw new ModelFormatException($"Truncated sparse payload: {what} needs {count} bytes, {_rest.Length} remain.");
        }

        ReadOnlySpan<byte> taken = _rest[..(int)count];
        _rest = _rest[(int)count..];
        return taken;
    }

    public byte Byte() => Take(1, "a tensor's mode")[0];

    public int Int() => BinaryPrimitives.ReadInt32LittleEndian(Take(4, "a count"));
}
