using System.Buffers.Binary;
using System.IO.Hashing;
using System.Text;
using FederatedSharp.Parameters;

namespace FederatedSharp.Serialization;

/// <summary>Reading the payload's preamble and tensor table: every size checked against the limits before anything is allocated.</summary>
public sealed partial class BinaryModelSerializer
{
    private int CheckPreamble(ReadOnlySpan<byte> preamble, out int tensorCount, out ElementEncoding encoding, out ushort version)
    {
        if (!preamble[..4].SequenceEqual(Magic))
        {
            throw new ModelFormatException($"Not a FederatedSharp model payload: expected magic 'FSMP', found 0x{Convert.ToHexString(preamble[..4])}.");
        }

        version = BinaryPrimitives.ReadUInt16LittleEndian(preamble[4..]);
        if (version is < 1 or > Version)
        {
            throw new ModelFormatException($"Unsupported model format version {version}; this reader supports versions 1 to {Version}.");
        }

        if (!ElementCodec.IsKnown(preamble[6]))
        {
            throw new ModelFormatException($"Unsupported element encoding {preamble[6]}; this reader supports {ElementCodec.Supported}.");
        }

        encoding = (ElementEncoding)preamble[6];

        uint count = BinaryPrimitives.ReadUInt32LittleEndian(preamble[8..]);
        uint tableLength = BinaryPrimitives.ReadUInt32LittleEndian(preamble[12..]);
        if (count > (uint)_options.MaxTensorCount)
        {
            throw new ModelFormatException($"Oversized model payload: {count} tensors declared, the limit is {_options.MaxTensorCount}.");
        }

        if (tableLength > (uint)_options.MaxHeaderBytes)
        {
            throw new ModelFormatException($"Oversized model payload: a tensor table of {tableLength} bytes declared, the limit is {_options.MaxHeaderBytes}.");
        }

        tensorCount = (int)count;
        return (int)tableLength;
    }

    private TensorLayout ParseTable(ReadOnlySpan<byte> table, int tensorCount)
    {
        var specs = new TensorSpec[tensorCount];
        var names = new HashSet<string>(StringComparer.Ordinal);
        int position = 0;
        int tableLength = table.Length - 8;
        long total = 0;
        for (int i = 0; i < tensorCount; i++)
        {
            if (position + 2 > tableLength)
            {
                throw new ModelFormatException($"Corrupt model payload: the tensor table ends inside tensor {i}.");
            }

            int nameLength = BinaryPrimitives.ReadUInt16LittleEndian(table[position..]);
            position += 2;
            if (nameLength == 0 || nameLength > _options.MaxNameBytes)
            {
                throw new ModelFormatException($"Corrupt model payload: tensor {i} has a name of {nameLength} bytes (allowed 1..{_options.MaxNameBytes}).");
            }

            if (position + nameLength + 1 > tableLength)
            {
                throw new ModelFormatException($"Corrupt model payload: the tensor table ends inside tensor {i}'s name.");
            }

            string name;
            try
            {
                name = new UTF8Encoding(false, true).GetString(table.Slice(position, nameLength));
            }
            catch (DecoderFallbackException)
            {
                throw new ModelFormatException($"Corrupt model payload: tensor {i}'s name is not valid UTF-8.");
            }

            position += nameLength;
            if (!names.Add(name))
            {
                throw new ModelFormatException($"Corrupt model payload: tensor name '{name}' appears twice.");
            }

            (int[] shape, long elements) = ReadShape(table, ref position, tableLength, name);
            total += elements;
            if (total > _options.MaxParameterCount)
            {
                throw new ModelFormatException($"Oversized model payload: more than {_options.MaxParameterCount} parameters declared (limit).");
            }

            specs[i] = new TensorSpec(name, shape);
        }

        if (position != tableLength)
        {
            throw new ModelFormatException($"Corrupt model payload: the tensor table declares {tableLength} bytes but its entries use {position}.");
        }

        ulong declared = BinaryPrimitives.ReadUInt64LittleEndian(table[tableLength..]);
        if (declared != (ulong)total)
        {
            throw new ModelFormatException($"Corrupt model payload: {declared} values declared, but the tensor shapes hold {total}.");
        }

        return new TensorLayout(specs);
    }

    private static void VerifyChecksum(PayloadHash hasher, ReadOnlySpan<byte> stored)
    {
        ulong expected = BinaryPrimitives.ReadUInt64LittleEndian(stored);
        ulong actual = hasher.Current;
        if (expected != actual)
        {
            throw new ModelFormatException($"Corrupt model payload: checksum mismatch (stored {expected:x16}, computed {actual:x16}).");
        }
    }

    private (int[] Shape, long Elements) ReadShape(ReadOnlySpan<byte> table, ref int position, int tableLength, string name)
    {
        int rank = table[position++];
        if (rank > _options.MaxRank || position + (4 * rank) > tableLength)
        {
            throw new ModelFormatException($"Corrupt model payload: tensor '{name}' has rank {rank} (limit {_options.MaxRank}) or its shape runs past the table.");
        }

        int[] shape = new int[rank];
        long elements = 1;
        for (int d = 0; d < rank; d++)
        {
            shape[d] = BinaryPrimitives.ReadInt32LittleEndian(table[position..]);
            position += 4;
            if (shape[d] < 0)
            {
                throw new ModelFormatException($"Corrupt model payload: tensor '{name}' has negative dimension {shape[d]}.");
            }

            elements *= shape[d];
            if (elements > _options.MaxParameterCount)
            {
                break;
            }
        }
        return (shape, elements);
    }
}
