using System.Buffers.Binary;
using FederatedSharp.Parameters;
using FederatedSharp.Serialization;
using FederatedSharp.Tests.TestUtilities;

namespace FederatedSharp.Tests.Serialization;

/// <summary>The 4-bit block encodings (int4, NF4) against a plain reference, within their stated bounds, through the serializer.</summary>
[Category("Kernels")]
public sealed class BlockQuantizationTests
{
    private static readonly int[] Lengths = [0, 1, 2, 3, 63, 64, 65, 127, 128, 129, 1000, 4097];

    [Test]
    public void EncodeDecode_EveryLength_MatchesTheReferenceBitForBitAndStaysWithinTheBound(
        [Values(ElementEncoding.Int4, ElementEncoding.NF4)] ElementEncoding encoding)
    {
        var random = new DeterministicRandom(7);
        foreach (int length in Lengths.Concat(Enumerable.Range(0, 20).Select(_ => random.Next(1, 3000))))
        {
            float[] values = Enumerable.Range(0, length).Select(_ => (float)((random.NextDouble() - 0.5) * 6)).ToArray();
            if (length > 70)
            {
                values.AsSpan(64, 6).Clear(); // part of a block of zeros
            }

            byte[] bytes = new byte[BlockQuantization.EncodedBytes(length)];
            BlockQuantization.Encode(values, bytes, encoding, "t");
            float[] decoded = new float[length];
            BlockQuantization.Decode(bytes, decoded, encoding, "t");

            float[] expected = Reference(values, encoding);
            Assert.That(decoded, Is.EqualTo(expected), $"{encoding}, {length} values");
            for (int i = 0; i < length; i++)
            {
                float max = BlockMax(values, i);
                double bound = encoding == ElementEncoding.Int4 ? max / 14.0 : max * 0.15191;
                Assert.That(Math.Abs(decoded[i] - values[i]), Is.LessThanOrEqualTo((bound * 1.0001) + 1e-7), $"{encoding}, {length} values, element {i}");
            }
        }
    }

    [Test]
    public void EncodedBytes_Blocks_FourBytesPerBlockAndHalfAPerValue()
    {
        Assert.That(BlockQuantization.EncodedBytes(0), Is.Zero);
        Assert.That(BlockQuantization.EncodedBytes(1), Is.EqualTo(5));
        Assert.That(BlockQuantization.EncodedBytes(64), Is.EqualTo(36));
        Assert.That(BlockQuantization.EncodedBytes(65), Is.EqualTo(41));
        Assert.That(BlockQuantization.EncodedBytes(1 << 20) * 8.0 / (1 << 20), Is.EqualTo(4.5), "4.5 bits per value");
    }

    [Test]
    public void NF4_NormalData_HasALowerMeanSquaredErrorThanInt4()
    {
        var random = new DeterministicRandom(3);
        float[] values = Enumerable.Range(0, 1 << 16).Select(_ => (float)Normal(random)).ToArray();

        double nf4 = MeanSquaredError(values, ElementEncoding.NF4), int4 = MeanSquaredError(values, ElementEncoding.Int4);

        Assert.That(nf4, Is.LessThan(int4 * 0.9), $"NF4 {nf4:G3}, int4 {int4:G3}");
    }

    [Test]
    public async Task Serializer_BlockEncodings_RoundTripThroughBuffersAndStreamsAtTheirSize(
        [Values(ElementEncoding.Int4, ElementEncoding.NF4)] ElementEncoding encoding)
    {
        using ModelParameters model = TestModels.Random(TensorLayout.Create(new TensorSpec("conv.weight", 8, 3, 3, 3), new TensorSpec("bias", 7), new TensorSpec("fc", 300, 7)), 5, 2f);
        var serializer = new BinaryModelSerializer(new BinaryModelSerializerOptions { Encoding = encoding });

        byte[] bytes = serializer.SerializeToArray(model);
        using ModelParameters back = new BinaryModelSerializer().Deserialize(bytes);
        using var stream = new MemoryStream();
        await serializer.SerializeAsync(model, stream);
        stream.Position = 0;
        using ModelParameters fromStream = await new BinaryModelSerializer().DeserializeAsync(stream, stream.Length, CancellationToken.None).WithTimeout();

        long data = model.Layout.Tensors.Sum(t => BlockQuantization.EncodedBytes(t.ElementCount));
        Assert.That(bytes.Length, Is.EqualTo(BinaryModelSerializer.GetSerializedLength(model, encoding)));
        Assert.That(bytes.Length - data, Is.EqualTo(BinaryModelSerializer.GetSerializedLength(model, ElementEncoding.Float32) - (4L * model.Length)), "the same header and checksum as float32");
        Assert.That(stream.ToArray(), Is.EqualTo(bytes), "stream and buffer writers agree");
        Assert.That(fromStream.Values.ToArray(), Is.EqualTo(back.Values.ToArray()));
        for (int t = 0; t < model.Layout.Count; t++)
        {
            Assert.That(back.GetTensor(t).ToArray(), Is.EqualTo(Reference(model.GetTensor(t).ToArray(), encoding)), model.Layout.Tensors[t].Name);
        }
    }

    [Test]
    public void Serialize_EmptyTensor_RoundTripsInEveryEncoding([Values] ElementEncoding encoding)
    {
        using ModelParameters model = TestModels.Random(TensorLayout.Create(new TensorSpec("empty", 0), new TensorSpec("w", 3)), 2);
        byte[] bytes = new BinaryModelSerializer(new BinaryModelSerializerOptions { Encoding = encoding }).SerializeToArray(model);

        using ModelParameters back = new BinaryModelSerializer().Deserialize(bytes);

        Assert.That(back.Layout, Is.EqualTo(model.Layout));
        Assert.That(back.GetTensor("empty").Length, Is.Zero);
    }

    [Test]
    public void Serialize_NaN_ThrowsNamingTheTensorAndEncoding([Values(ElementEncoding.Int4, ElementEncoding.NF4)] ElementEncoding encoding)
    {
        using ModelParameters model = TestModels.Random(TensorLayout.Create(new TensorSpec("w", 10), new TensorSpec("bias", 4)), 1);
        model.GetTensor("bias")[1] = float.PositiveInfinity;

        var e = Assert.Throws<ArgumentException>(() => new BinaryModelSerializer(new BinaryModelSerializerOptions { Encoding = encoding }).SerializeToArray(model));

        Assert.That(e!.Message, Does.Contain("'bias'").And.Contain(encoding.ToString()));
    }

    [Test]
    public void Deserialize_NegativeBlockScale_ThrowsModelFormatException()
    {
        using ModelParameters model = TestModels.Random(TensorLayout.Create(new TensorSpec("w", 100)), 1);
        byte[] bytes = new BinaryModelSerializer(new BinaryModelSerializerOptions { Encoding = ElementEncoding.Int4 }).SerializeToArray(model);
        int data = bytes.Length - 8 - (int)BlockQuantization.EncodedBytes(100);
        BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(data + 36), -2f); // the second block's scale

        var e = Assert.Throws<ModelFormatException>(() => new BinaryModelSerializer().Deserialize(bytes));

        Assert.That(e!.Message, Does.Contain("block scale"));
    }

    // The plain definition: per block of 64, m = max |x|; int4 rounds x/m*7 to the nearest integer (halves away from
    // zero); NF4 takes the nearest of its 16 levels (the lower one on a tie); the value is the level times m.
    private static float[] Reference(float[] values, ElementEncoding encoding)
    {
        float[] result = new float[values.Length];
        for (int start = 0; start < values.Length; start += 64)
        {
            int end = Math.Min(values.Length, start + 64);
            float m = 0;
            for (int i = start; i < end; i++)
            {
                m = Math.Max(m, Math.Abs(values[i]));
            }

            float inverse = m == 0 ? 0 : 1 / m;
            for (int i = start; i < end; i++)
            {
                float x = values[i] * inverse;
                if (encoding == ElementEncoding.Int4)
                {
                    result[i] = MathF.Round(Math.Clamp(x, -1f, 1f) * 7f, MidpointRounding.AwayFromZero) / 7f * m;
                }
                else
                {
                    int best = 0;
                    for (int k = 1; k < 16; k++)
                    {
                        if (Math.Abs(x - BlockQuantization.NF4Levels[k]) < Math.Abs(x - BlockQuantization.NF4Levels[best]))
                        {
                            best = k;
                        }
                    }

                    result[i] = BlockQuantization.NF4Levels[best] * m;
                }
            }
        }

        return result;
    }

    private static float BlockMax(float[] values, int i)
    {
        int start = i / 64 * 64;
        return values.AsSpan(start, Math.Min(64, values.Length - start)).ToArray().Max(Math.Abs);
    }

    private static double MeanSquaredError(float[] values, ElementEncoding encoding)
    {
        byte[] bytes = new byte[BlockQuantization.EncodedBytes(values.Length)];
        BlockQuantization.Encode(values, bytes, encoding, "t");
        float[] decoded = new float[values.Length];
        BlockQuantization.Decode(bytes, decoded, encoding, "t");
        return values.Zip(decoded, (a, b) => (double)(a - b) * (a - b)).Average();
    }

    private static double Normal(Random random) => Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
}
