using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using FederatedSharp.Parameters;
using FederatedSharp.Serialization;
using FederatedSharp.Tests.TestUtilities;

namespace FederatedSharp.Tests.Serialization;

/// <summary>safetensors against byte fixtures built by hand from the format specification (no Python at test time).</summary>
public class SafetensorsSerializerTests
{
    private static byte[] File(string header, params byte[][] data)
    {
        byte[] json = Encoding.UTF8.GetBytes(header);
        var bytes = new List<byte>();
        bytes.AddRange(BitConverter.GetBytes((ulong)json.Length));
        bytes.AddRange(json);
        foreach (byte[] d in data)
        {
            bytes.AddRange(d);
        }

        return bytes.ToArray();
    }

    private static byte[] F32(params float[] values) => values.SelectMany(BitConverter.GetBytes).ToArray();

    [Test]
    public void Deserialize_SpecExampleF32WithMetadata_ReadsValuesShapesAndMetadata()
    {
        byte[] file = File("{\"test\":{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[0,16]},\"__metadata__\":{\"format\":\"pt\"}}", F32(1, 2, 3, 4));
        var serializer = new SafetensorsSerializer();
        using ModelParameters p = serializer.Deserialize(file);
        Assert.Multiple(() =>
        {
            Assert.That(p.Layout.Tensors.Single().ToString(), Is.EqualTo("test[2, 2]"));
            Assert.That(p.Values.ToArray(), Is.EqualTo(new float[] { 1, 2, 3, 4 }));
            Assert.That(serializer.LastMetadata["format"], Is.EqualTo("pt"));
        });
    }

    [Test]
    public void Deserialize_F16AndBF16Tensors_DecodedAndOrderedByOffset()
    {
        // "b" comes first in the data even though "a" comes first in the JSON: file order is data order.
        byte[] f16 = { 0x00, 0x3C, 0x00, 0xC0 };          // 1.0, -2.0 as IEEE half, little-endian
        byte[] bf16 = { 0x80, 0x3F, 0x40, 0x40, 0x00, 0x00 }; // 1.0, 3.0, 0.0 as bfloat16
        byte[] file = File("{\"a\":{\"dtype\":\"BF16\",\"shape\":[3],\"data_offsets\":[4,10]},\"b\":{\"dtype\":\"F16\",\"shape\":[2,1],\"data_offsets\":[0,4]}}", f16, bf16);
        using ModelParameters p = new SafetensorsSerializer().Deserialize(file);
        Assert.Multiple(() =>
        {
            Assert.That(p.Layout.Tensors.Select(t => t.Name), Is.EqualTo(new[] { "b", "a" }));
            Assert.That(p.GetTensor("b").ToArray(), Is.EqualTo(new float[] { 1, -2 }));
            Assert.That(p.GetTensor("a").ToArray(), Is.EqualTo(new float[] { 1, 3, 0 }));
        });
    }

    [TestCase(ElementEncoding.Float32, "F32")]
    [TestCase(ElementEncoding.Float16, "F16")]
    [TestCase(ElementEncoding.BFloat16, "BF16")]
    public async Task Serialize_Model_WritesSpecCompliantHeaderAndRoundTrips(ElementEncoding dtype, string name)
    {
        var options = new SafetensorsOptions { DType = dtype };
        options.Metadata["framework"] = "FederatedSharp";
        var serializer = new SafetensorsSerializer(options);
        using ModelParameters model = TestModels.Random(TensorLayout.Create(new TensorSpec("fc1.weight", 4, 3), new TensorSpec("fc1.bias", 4), new TensorSpec("s")), 3);
        byte[] bytes = serializer.SerializeToArray(model);
        long headerLength = BinaryPrimitives.ReadInt64LittleEndian(bytes);
        using JsonDocument header = JsonDocument.Parse(bytes.AsMemory(8, (int)headerLength));
        JsonElement bias = header.RootElement.GetProperty("fc1.bias");
        int size = dtype == ElementEncoding.Float32 ? 4 : 2;

        using ModelParameters back = serializer.Deserialize(bytes);
        using var stream = new MemoryStream();
        await serializer.SerializeAsync(model, stream);
        stream.Position = 0;
        using ModelParameters fromStream = await serializer.DeserializeAsync(stream).WithTimeout();
        Assert.Multiple(() =>
        {
            Assert.That((headerLength + 8) % 8, Is.EqualTo(0), "the data starts 8-byte aligned");
            Assert.That(bias.GetProperty("dtype").GetString(), Is.EqualTo(name));
            Assert.That(bias.GetProperty("data_offsets").EnumerateArray().Select(e => e.GetInt64()), Is.EqualTo(new long[] { 12 * size, 16 * size }));
            Assert.That(header.RootElement.GetProperty("__metadata__").GetProperty("framework").GetString(), Is.EqualTo("FederatedSharp"));
            Assert.That(bytes.Length, Is.EqualTo(8 + headerLength + (17 * size)));
            Assert.That(back.Layout, Is.EqualTo(model.Layout));
            Assert.That(back.Values.ToArray(), Is.EqualTo(model.Values.ToArray()).Within(dtype == ElementEncoding.Float32 ? 0 : 0.01));
            Assert.That(stream.ToArray(), Is.EqualTo(bytes));
            Assert.That(fromStream.Values.ToArray(), Is.EqualTo(back.Values.ToArray()));
        });
    }

    [TestCase("{\"t\":{\"dtype\":\"I64\",\"shape\":[2],\"data_offsets\":[0,16]}}", 16, "Unsupported safetensors dtype 'I64'")]
    [TestCase("{\"t\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}", 8, "needs 12 bytes")]
    [TestCase("{\"t\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", 8, "gap or overlap")]
    [TestCase("{\"t\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", 12, "the file holds 12")]
    [TestCase("{\"t\":{\"dtype\":\"F32\",\"shape\":[2]}}", 8, "data_offsets")]
    [TestCase("{\"t\":[1,2", 8, "not valid JSON")]
    [TestCase("[1,2]", 0, "not an object")]
    public void Deserialize_MalformedFile_ThrowsNamingTheProblem(string header, int dataBytes, string expected)
    {
        var ex = Assert.Throws<ModelFormatException>(() => new SafetensorsSerializer().Deserialize(File(header, new byte[dataBytes])));
        Assert.That(ex!.Message, Does.Contain(expected));
    }

    [Test]
    public void Deserialize_HeaderLengthBeyondFile_ThrowsTruncated()
    {
        byte[] file = File("{\"t\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", F32(1));
        BinaryPrimitives.WriteInt64LittleEndian(file, 1_000_000);
        var ex = Assert.Throws<ModelFormatException>(() => new SafetensorsSerializer().Deserialize(file));
        Assert.That(ex!.Message, Does.Contain("Truncated"));
        Assert.Throws<ModelFormatException>(() => new SafetensorsSerializer().Deserialize(new byte[5]));
    }

    [Test]
    public void Deserialize_DeclaredParametersAboveLimit_Refused()
    {
        byte[] file = File("{\"t\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,12]}}", F32(1, 2, 3));
        var ex = Assert.Throws<ModelFormatException>(() => new SafetensorsSerializer(new SafetensorsOptions { MaxParameterCount = 2 }).Deserialize(file));
        Assert.That(ex!.Message, Does.Contain("Oversized"));
    }

    [Test]
    public void Constructor_Int8DType_Refused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => _ = new SafetensorsSerializer(new SafetensorsOptions { DType = ElementEncoding.Int8 }));
    }
}
