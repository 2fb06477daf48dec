using System.Buffers.Binary;
using FederatedSharp.Parameters;
using FederatedSharp.Serialization;
using FederatedSharp.Tests.TestUtilities;

namespace FederatedSharp.Tests.Serialization;

/// <summary>
/// Hostile input for both deserializers: a seeded corpus of random bytes, truncations, bit flips and size-lying headers.
/// The only exception allowed is <see cref="ModelFormatException"/>, and no input may make the reader allocate more
/// than the configured limit.
/// </summary>
public class SerializerFuzzTests
{
    private const long ParameterLimit = 4096;

    public static IEnumerable<TestCaseData> Serializers()
    {
        yield return new TestCaseData("binary-f32");
        yield return new TestCaseData("binary-int8");
        yield return new TestCaseData("binary-int4");
        yield return new TestCaseData("binary-nf4");
        yield return new TestCaseData("safetensors");
    }

    private static (IModelSerializer Writer, Func<byte[], ModelParameters> Read) Create(string name) => name switch
    {
        "binary-f32" => (new BinaryModelSerializer(), b => new BinaryModelSerializer(new BinaryModelSerializerOptions { MaxParameterCount = ParameterLimit }).Deserialize(b)),
        "binary-int8" => (new BinaryModelSerializer(new BinaryModelSerializerOptions { Encoding = ElementEncoding.Int8 }), b => new BinaryModelSerializer(new BinaryModelSerializerOptions { MaxParameterCount = ParameterLimit }).Deserialize(b)),
        "binary-int4" => (new BinaryModelSerializer(new BinaryModelSerializerOptions { Encoding = ElementEncoding.Int4 }), b => new BinaryModelSerializer(new BinaryModelSerializerOptions { MaxParameterCount = ParameterLimit }).Deserialize(b)),
        "binary-nf4" => (new BinaryModelSerializer(new BinaryModelSerializerOptions { Encoding = ElementEncoding.NF4 }), b => new BinaryModelSerializer(new BinaryModelSerializerOptions { MaxParameterCount = ParameterLimit }).Deserialize(b)),
        _ => (new SafetensorsSerializer(), b => new SafetensorsSerializer(new SafetensorsOptions { MaxParameterCount = ParameterLimit, MaxHeaderBytes = 1 << 16 }).Deserialize(b)),
    };

    [TestCaseSource(nameof(Serializers))]
    public void Deserialize_TwentyThousandHostileInputs_OnlyModelFormatExceptionsAndBoundedAllocation(string name)
    {
        (IModelSerializer writer, Func<byte[], ModelParameters> read) = Create(name);
        using ModelParameters model = TestModels.Random(TensorLayout.Create(new TensorSpec("conv.weight", 4, 2, 3, 3), new TensorSpec("bias", 4), new TensorSpec("fc", 10, 6)), 1);
        var buffer = new System.Buffers.ArrayBufferWriter<byte>();
        writer.Serialize(model, buffer);
        byte[] valid = buffer.WrittenSpan.ToArray();
        var random = new DeterministicRandom(DeterministicRandom.HashString(name));
        var outcomes = new Dictionary<string, int>();
        long worstAllocation = 0;
        for (int i = 0; i < 20_000; i++)
        {
            byte[] input = Mutate(valid, random, i % 5);
            long before = GC.GetAllocatedBytesForCurrentThread();
            try
            {
                using ModelParameters p = read(input);
                outcomes["accepted"] = outcomes.GetValueOrDefault("accepted") + 1;
                Assert.That(p.Length, Is.LessThanOrEqualTo(ParameterLimit));
            }
            catch (ModelFormatException)
            {
                outcomes["rejected"] = outcomes.GetValueOrDefault("rejected") + 1;
            }
            catch (Exception ex)
            {
                Assert.Fail($"{name}, input {i} (mutation {i % 5}, {input.Length} bytes): {ex.GetType().Name}: {ex.Message}");
            }

            worstAllocation = Math.Max(worstAllocation, GC.GetAllocatedBytesForCurrentThread() - before);
        }

        TestContext.Out.WriteLine($"{name}: {string.Join(", ", outcomes.Select(o => $"{o.Key} {o.Value}"))}; largest allocation {worstAllocation / 1024} KiB");
        Assert.Multiple(() =>
        {
            Assert.That(outcomes.GetValueOrDefault("rejected"), Is.GreaterThan(15_000));
            // Parameter limit x 4 bytes plus pooled chunk buffers, headers and exception objects.
            Assert.That(worstAllocation, Is.LessThan((ParameterLimit * 4) + (2 << 20)));
        });
    }

    // 0 random bytes, 1 truncation, 2 bit flips, 3 a lying 32/64-bit size field, 4 random tail appended or spliced.
    private static byte[] Mutate(byte[] valid, DeterministicRandom random, int kind)
    {
        switch (kind)
        {
            case 0:
            {
                byte[] bytes = new byte[random.Next(0, 200)];
                random.NextBytes(bytes);
                if (bytes.Length >= 4 && random.Next(2) == 0)
                {
                    "FSMP"u8.CopyTo(bytes);
                }

                return bytes;
            }

            case 1:
                return valid[..random.Next(0, valid.Length)];
            case 2:
            {
                byte[] bytes = (byte[])valid.Clone();
                for (int f = random.Next(1, 6); f > 0; f--)
                {
                    bytes[random.Next(bytes.Length)] ^= (byte)(1 << random.Next(8));
                }

                return bytes;
            }

            case 3:
            {
                byte[] bytes = (byte[])valid.Clone();
                int offset = random.Next(0, Math.Max(1, Math.Min(bytes.Length - 8, 64)));
                if (random.Next(2) == 0)
                {
                    BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(offset), (uint)random.Next() | (random.Next(2) == 0 ? 0x80000000u : 0));
                }
                else
                {
                    BinaryPrimitives.WriteInt64LittleEndian(bytes.AsSpan(offset), (long)random.NextUInt64());
                }

                return bytes;
            }

            default:
            {
                byte[] extra = new byte[random.Next(1, 64)];
                random.NextBytes(extra);
                int cut = random.Next(0, valid.Length);
                return [.. valid[..cut], .. extra, .. valid[cut..]];
            }
        }
    }
}
