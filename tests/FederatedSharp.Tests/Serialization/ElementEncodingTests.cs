using System.Buffers.Binary;
using FederatedSharp.Parameters;
using FederatedSharp.Serialization;
using FederatedSharp.Tests.TestUtilities;

namespace FederatedSharp.Tests.Serialization;

/// <summary>BinaryModelSerializer with each <see cref="ElementEncoding"/>: sizes, precision, stream/buffer agreement, bad input.</summary>
public class ElementEncodingTests
{
    private static ModelParameters Model() => TestModels.Random(TensorLayout.Create(new TensorSpec("conv.weight", 8, 3, 3, 3), new TensorSpec("bias", 8), new TensorSpec("fc", 300, 7)), 11, 3f);

    [TestCase(ElementEncoding.Float32, 4.0)]
    [TestCase(ElementEncoding.Float16, 2.0)]
    [TestCase(ElementEncoding.BFloat16, 2.0)]
    [TestCase(ElementEncoding.Int8, 1.0)]
    public async Task Serialize_Encoding_RoundTripsWithinItsPrecisionAndSize(ElementEncoding encoding, double bytesPerValue)
    {
        var serializer = new BinaryModelSerializer(new BinaryModelSerializerOptions { Encoding = encoding });
        using ModelParameters model = Model();
        byte[] bytes = serializer.SerializeToArray(model);
        using ModelParameters back = new BinaryModelSerializer().Deserialize(bytes);
        using var stream = new MemoryStream();
        await serializer.SerializeAsync(model, stream);
        stream.Position = 0;
        using ModelParameters fromStream = await serializer.DeserializeAsync(stream).WithTimeout();

        long headerAndChecksum = BinaryModelSerializer.GetSerializedLength(model, encoding) - (long)(bytesPerValue * model.Length);
        Assert.Multiple(() =>
        {
            Assert.That(bytes.Length, Is.EqualTo(BinaryModelSerializer.GetSerializedLength(model, encoding)));
            Assert.That(headerAndChecksum, Is.LessThan(200), "the rest is the tensor table, the checksum and int8 scales");
            Assert.That(stream.ToArray(), Is.EqualTo(bytes), "stream and buffer writers agree");
            Assert.That(fromStream.Values.ToArray(), Is.EqualTo(back.Values.ToArray()));
        });
        for (int t = 0; t < model.Layout.Count; t++)
        {
            ReadOnlySpan<float> original = model.GetTensor(t);
            ReadOnlySpan<float> decoded = back.GetTensor(t);
            float maxAbs = 0;
            foreach (float v in original)
            {
                maxAbs = Math.Max(maxAbs, Math.Abs(v));
            }

            for (int i = 0; i < original.Length; i++)
            {
                double tolerance = encoding switch
                {
                    ElementEncoding.Float32 => 0,
                    ElementEncoding.Float16 => Math.Max(Math.Abs(original[i]) * Math.Pow(2, -11), Math.Pow(2, -25)), // half subnormals: absolute 2^-24 steps
                    ElementEncoding.BFloat16 => Math.Abs(original[i]) * Math.Pow(2, -8),
                    _ => maxAbs / 127 / 2 * 1.0001,
                };
                Assert.That(decoded[i], Is.EqualTo(original[i]).Within(tolerance), $"{encoding}, tensor {t}, element {i}");
            }
        }
    }

    [Test]
    public void Serialize_Int8WithNaN_ThrowsNamingTheTensor()
    {
        using ModelParameters model = Model();
        model.GetTensor("bias")[2] = float.NaN;
        var serializer = new BinaryModelSerializer(new BinaryModelSerializerOptions { Encoding = ElementEncoding.Int8 });
        var ex = Assert.Throws<ArgumentException>(() => serializer.SerializeToArray(model));
        Assert.That(ex!.Message, Does.Contain("bias").And.Contain("int8"));
    }

    [Test]
    public void Deserialize_UnknownEncodingByte_ThrowsListingSupported()
    {
        using ModelParameters model = Model();
        byte[] bytes = new BinaryModelSerializer().SerializeToArray(model);
        bytes[6] = 9;
        var ex = Assert.Throws<ModelFormatException>(() => new BinaryModelSerializer().Deserialize(bytes));
        Assert.That(ex!.Message, Does.Contain("encoding 9").And.Contain("int8"));
    }

    [Test]
    public void Deserialize_Int8ScaleCorrupted_Throws()
    {
        using ModelParameters model = Model();
        byte[] bytes = new BinaryModelSerializer(new BinaryModelSerializerOptions { Encoding = ElementEncoding.Int8 }).SerializeToArray(model);
        int dataStart = (int)(BinaryModelSerializer.GetSerializedLength(model, ElementEncoding.Int8) - 8 - model.Length - (4 * model.Layout.Count));
        BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(dataStart), -1f);
        Assert.Throws<ModelFormatException>(() => new BinaryModelSerializer().Deserialize(bytes));
    }

    [TestCase(1.0f, (ushort)0x3F80)]
    [TestCase(-2.0f, (ushort)0xC000)]
    [TestCase(1.00390625f, (ushort)0x3F80)] // exactly halfway between 0x3F80 and 0x3F81: ties to even
    [TestCase(1.01171875f, (ushort)0x3F82)] // halfway between 0x3F81 and 0x3F82: ties to even
    [TestCase(float.PositiveInfinity, (ushort)0x7F80)]
    public void ToBFloat16_KnownValues_RoundsToNearestEven(float value, ushort expected)
    {
        Assert.That(ElementCodec.ToBFloat16(value), Is.EqualTo(expected));
    }

    [Test]
    public void ToBFloat16_RandomValues_MatchesDoublePrecisionNearestRounding()
    {
        var random = new DeterministicRandom(5);
        for (int i = 0; i < 10_000; i++)
        {
            float x = (float)((random.NextDouble() - 0.5) * Math.Pow(10, random.Next(-8, 9)));
            float decoded = ElementCodec.FromBFloat16(ElementCodec.ToBFloat16(x));
            uint bits = BitConverter.SingleToUInt32Bits(x) & 0xFFFF0000;
            float down = BitConverter.UInt32BitsToSingle(bits);
            float up = BitConverter.UInt32BitsToSingle(bits + 0x10000);
            double nearest = Math.Abs((double)x - down) <= Math.Abs((double)up - x) ? down : up;
            if (Math.Abs((double)x - down) == Math.Abs((double)up - x))
            {
                nearest = ((bits >> 16) & 1) == 0 ? down : up;
            }

            Assert.That(decoded, Is.EqualTo((float)nearest), $"value {x:R}");
        }
    }
}
