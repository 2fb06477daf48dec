using System.Buffers;
using FederatedSharp.Parameters;
using FederatedSharp.Serialization;

namespace FederatedSharp.Tests.Serialization;

public class SparseModelSerializerTests
{
    private static ModelParameters Model(int length, double density, int seed)
    {
        var layout = TensorLayout.Create(new TensorSpec("a", [length]), new TensorSpec("b", [3, 2]), new TensorSpec("empty", [0]));
        ModelParameters model = ModelParameters.Create(layout);
        var random = new Random(seed);
        Span<float> values = model.Values;
        for (int i = 0; i < values.Length; i++)
        {
            values[i] = random.NextDouble() < density ? (float)(random.NextDouble() - 0.5) : 0f;
        }

        return model;
    }

    [TestCase(0, 0.0)]
    [TestCase(1, 1.0)]
    [TestCase(7, 0.5)]
    [TestCase(1000, 0.0)]
    [TestCase(1000, 0.01)]
    [TestCase(1000, 0.1)]
    [TestCase(1001, 0.3)]
    [TestCase(4099, 1.0)]
    public async Task Serialize_AnyDensity_RoundTripsExactlyAndAnnouncesItsLength(int length, double density)
    {
        var serializer = new SparseModelSerializer();
        using ModelParameters model = Model(length, density, length);
        var buffer = new ArrayBufferWriter<byte>();

        serializer.Serialize(model, buffer);
        using ModelParameters back = serializer.Deserialize(new ReadOnlySequence<byte>(buffer.WrittenMemory));
        using var stream = new MemoryStream();
        await serializer.SerializeAsync(model, stream);
        stream.Position = 0;
        using ModelParameters streamed = await serializer.DeserializeAsync(stream, stream.Length, CancellationToken.None);

        Assert.That(serializer.TryGetSerializedLength(model, out long announced), Is.True);
        Assert.Multiple(() =>
        {
            Assert.That(back.Layout, Is.EqualTo(model.Layout));
            Assert.That(back.Values.ToArray(), Is.EqualTo(model.Values.ToArray()));
            Assert.That(streamed.Values.ToArray(), Is.EqualTo(model.Values.ToArray()));
            Assert.That(announced, Is.EqualTo(buffer.WrittenCount));
            Assert.That(stream.ToArray(), Is.EqualTo(buffer.WrittenSpan.ToArray()));
        });
    }

    [TestCase(0.01, 0.03)]
    [TestCase(0.1, 0.17)]
    [TestCase(1.0, 1.01)]
    public void Serialize_SparseTensor_TakesAFractionOfTheDenseBytes(double density, double atMost)
    {
        var layout = TensorLayout.Create(new TensorSpec("w", [100_000]));
        using ModelParameters model = ModelParameters.Create(layout);
        int kept = (int)(density * model.Length);
        for (int i = 0; i < kept; i++)
        {
            model.Values[(int)((long)i * model.Length / kept)] = i + 1;
        }

        new SparseModelSerializer().TryGetSerializedLength(model, out long bytes);

        Assert.That(bytes / (4.0 * model.Length), Is.LessThanOrEqualTo(atMost));
    }

    [Test]
    public void Deserialize_FlippedByte_FailsTheChecksum()
    {
        var serializer = new SparseModelSerializer();
        using ModelParameters model = Model(500, 0.1, 3);
        var buffer = new ArrayBufferWriter<byte>();
        serializer.Serialize(model, buffer);
        byte[] bytes = buffer.WrittenSpan.ToArray();
        bytes[bytes.Length / 2] ^= 0x10;

        ModelFormatException? ex = Assert.Throws<ModelFormatException>(() => serializer.Deserialize(new ReadOnlySequence<byte>(bytes)));
        Assert.That(ex!.Message, Does.Contain("checksum"));
    }

    [Test]
    public void Deserialize_TooManyParametersDeclared_IsRefusedBeforeAllocating()
    {
        var small = new SparseModelSerializer(new BinaryModelSerializerOptions { MaxParameterCount = 100 });
        using ModelParameters model = Model(1000, 0.0, 1);
        var buffer = new ArrayBufferWriter<byte>();
        new SparseModelSerializer().Serialize(model, buffer);

        ModelFormatException? ex = Assert.Throws<ModelFormatException>(() => small.Deserialize(new ReadOnlySequence<byte>(buffer.WrittenMemory)));
        Assert.That(ex!.Message, Does.Contain("more than 100 parameters"));
    }

    [Test]
    public void Deserialize_Truncated_NamesWhatIsMissing()
    {
        Assert.Throws<ModelFormatException>(() => new SparseModelSerializer().Deserialize(new ReadOnlySequence<byte>(new byte[5])));
    }

    [TestCase(true)]
    [TestCase(false)]
    public void Serialize_ValuesThatAreAllFloat16_TakeTwoBytesEachAndRoundTripExactly(bool allHalf)
    {
        var layout = TensorLayout.Create(new TensorSpec("w", [10_000]));
        using ModelParameters model = ModelParameters.Create(layout);
        for (int i = 0; i < 1000; i++)
        {
            model.Values[i * 10] = (float)(Half)(0.001f * (i + 1));
        }

        if (!allHalf)
        {
            model.Values[5] = 0.1f; // not a float16: the tensor keeps 4-byte values
        }

        var serializer = new SparseModelSerializer();
        var buffer = new ArrayBufferWriter<byte>();
        serializer.Serialize(model, buffer);
        using ModelParameters back = serializer.Deserialize(new ReadOnlySequence<byte>(buffer.WrittenMemory));

        Assert.That(back.Values.ToArray(), Is.EqualTo(model.Values.ToArray()));
        int valueBytes = allHalf ? 2 : 4;
        Assert.That(buffer.WrittenCount, Is.InRange((10_000 / 8) + (valueBytes * 1000), (10_000 / 8) + (valueBytes * 1001) + 64), "a bitmap and the values");
    }
}
