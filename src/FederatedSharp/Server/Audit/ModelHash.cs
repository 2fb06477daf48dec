using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;
using FederatedSharp.Parameters;

namespace FederatedSharp.Server.Audit;

/// <summary>A SHA-256 fingerprint of a model: tensor names and shapes, then the float32 values (little-endian).</summary>
internal static class ModelHash
{
    /// <summary>Computes the fingerprint.</summary>
    /// <param name="parameters">The model.</param>
    /// <returns>Lower-case hex SHA-256.</returns>
    public static string Sha256(ModelParameters parameters)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        Span<byte> number = stackalloc byte[4];
        foreach (TensorSpec tensor in parameters.Layout.Tensors)
        {
            hash.AppendData(Encoding.UTF8.GetBytes(tensor.Name));
            BinaryPrimitives.WriteInt32LittleEndian(number, tensor.Shape.Count);
            hash.AppendData(number);
            foreach (int d in tensor.Shape)
            {
                BinaryPrimitives.WriteInt32LittleEndian(number, d);
                hash.AppendData(number);
            }
        }

        if (BitConverter.IsLittleEndian)
        {
            hash.AppendData(MemoryMarshal.AsBytes((ReadOnlySpan<float>)parameters.Values));
        }
        else
        {
            foreach (float v in parameters.Values)
            {
                BinaryPrimitives.WriteSingleLittleEndian(number, v);
                hash.AppendData(number);
            }
        }

        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }
}
