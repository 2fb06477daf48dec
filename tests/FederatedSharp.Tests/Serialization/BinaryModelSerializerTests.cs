using System.Buffers;
using System.Buffers.Binary;
using FederatedSharp.Parameters;
using FederatedSharp.Serialization;
using FederatedSharp.Tests.TestUtilities;

namespace FederatedSharp.Tests.Serialization;

public class BinaryModelSerializerTests
{
    private static readonly BinaryModelSerializer Serializer = new();

    private static ModelParameters Model() => TestModels.Random(
        TensorLayout.Create(new TensorSpec("conv.weight", 2, 1, 3, 3), new TensorSpec("conv.bias", 2), new TensorSpec("é-unicode", 3), new TensorSpec("scalar")), 7);

    [Test]
    public void Deserialize_SerializedModel_RoundTripsExactly()
    {
        using ModelParameters model = Model();
        byte[] bytes = Serializer.SerializeToArray(model);
        using ModelParameters back = Serializer.Deserialize(bytes);
        Assert.Multiple(() =>
        {
            Assert.That(bytes.Length, Is.EqualTo(BinaryModelSerializer.GetSerializedLength(model)));
            Assert.That(back.Layout, Is.EqualTo(model.Layout));
            Assert.That(back.Values.ToArray(), Is.EqualTo(model.Values.ToArray()));
        });
    }

    [Test]
    public void Deserialize_MultiSegmentSequence_RoundTrips()
    {
        using ModelParameters model = Model();
        byte[] bytes = Serializer.SerializeToArray(model);
        ReadOnlySequence<byte> sequence = Segments.Split(bytes, 7);
        using ModelParameters back = Serializer.Deserialize(sequence);
        Assert.That(back.Values.ToArray(), Is.EqualTo(model.Values.ToArray()));
    }

    [Test]
    public async Task DeserializeAsync_StreamOfLargeModel_RoundTrips()
    {
        using ModelParameters model = TestModels.Random(TensorLayout.Create(new TensorSpec("w", 700_001), new TensorSpec("b", 3)), 3);
        using var stream = new MemoryStream();
        await Serializer.SerializeAsync(model, stream);
        Assert.That(stream.Length, Is.EqualTo(BinaryModelSerializer.GetSerializedLength(model)));
        stream.Position = 0;
        using ModelParameters back = await Serializer.DeserializeAsync(stream).WithTimeout();
        Assert.That(back.Values.ToArray(), Is.EqualTo(model.Values.ToArray()));
        Assert.That(Serializer.SerializeToArray(back), Is.EqualTo(stream.ToArray()), "stream and buffer writers produce the same bytes");
    }

    [Test]
    public void Deserialize_EveryTruncation_ThrowsTruncated()
    {
        using ModelParameters model = Model();
        byte[] bytes = Serializer.SerializeToArray(model);
        for (int length = 0; length < bytes.Length; length++)
        {
            var ex = Assert.Throws<ModelFormatException>(() => Serializer.Deserialize(bytes.AsMemory(0, length)), $"prefix of {length} bytes");
            Assert.That(ex!.Message, Does.Contain("Truncated").Or.Contain("Corrupt"), $"prefix of {length} bytes");
        }
    }

    [Test]
    public async Task DeserializeAsync_TruncatedStream_ThrowsTruncated()
    {
        using ModelParameters model = Model();
        byte[] bytes = Serializer.SerializeToArray(model);
        using var stream = new MemoryStream(bytes, 0, bytes.Length - 3);
        var ex = await Assert.ThrowsAsync<ModelFormatException>(() => Serializer.DeserializeAsync(stream));
        Assert.That(ex!.Message, Does.Contain("Truncated"));
    }

    [Test]
    public void Deserialize_FlippedDataBit_ThrowsChecksumMismatch()
    {
        using ModelParameters model = Model();
        byte[] bytes = Serializer.SerializeToArray(model);
        bytes[^20] ^= 0x10;
        var ex = Assert.Throws<ModelFormatException>(() => Serializer.Deserialize(bytes));
        Assert.That(ex!.Message, Does.Contain("checksum"));
    }

    [Test]
    public void Deserialize_WrongMagic_SaysNotAFederatedSharpPayload()
    {
        byte[] bytes = "GIF89a-and-more-bytes"u8.ToArray();
        var ex = Assert.Throws<ModelFormatException>(() => Serializer.Deserialize(bytes));
        Assert.That(ex!.Message, Does.Contain("Not a FederatedSharp model payload"));
    }

    [Test]
    public void Deserialize_FutureVersion_ThrowsUnsupportedVersion()
    {
        using ModelParameters model = Model();
        byte[] bytes = Serializer.SerializeToArray(model);
        BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(4), 9);
        var ex = Assert.Throws<ModelFormatException>(() => Serializer.Deserialize(bytes));
        Assert.That(ex!.Message, Does.Contain("version 9"));
    }

    [Test]
    public async Task Deserialize_Version1PayloadWithXxHash64_IsStillRead()
    {
        using ModelParameters model = Model();
        byte[] bytes = Serializer.SerializeToArray(model);
        BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(4), 1);
        BinaryPrimitives.WriteUInt64LittleEndian(bytes.AsSpan(bytes.Length - 8), System.IO.Hashing.XxHash64.HashToUInt64(bytes.AsSpan(0, bytes.Length - 8)));

        using ModelParameters fromBytes = Serializer.Deserialize(bytes);
        using ModelParameters fromStream = await Serializer.DeserializeAsync(new MemoryStream(bytes), bytes.Length, CancellationToken.None);

        Assert.That(fromBytes.Values.ToArray(), Is.EqualTo(model.Values.ToArray()));
        Assert.That(fromStream.Values.ToArray(), Is.EqualTo(model.Values.ToArray()));
    }

    [Test]
    public void Serialize_CurrentVersion_EndsWithTheXxHash3OfTheRest()
    {
        using ModelParameters model = Model();
        byte[] bytes = Serializer.SerializeToArray(model);

        Assert.That(BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(4)), Is.EqualTo(2));
        Assert.That(BinaryPrimitives.ReadUInt64LittleEndian(bytes.AsSpan(bytes.Length - 8)), Is.EqualTo(System.IO.Hashing.XxHash3.HashToUInt64(bytes.AsSpan(0, bytes.Length - 8))));
        Assert.That(Serializer.Format, Does.StartWith("fsmp-v2-"));
    }

    [Test]
    public void Deserialize_Version1ChecksumOnAVersion2Payload_FailsTheChecksum()
    {
        using ModelParameters model = Model();
        byte[] bytes = Serializer.SerializeToArray(model);
        BinaryPrimitives.WriteUInt64LittleEndian(bytes.AsSpan(bytes.Length - 8), System.IO.Hashing.XxHash64.HashToUInt64(bytes.AsSpan(0, bytes.Length - 8)));

        var ex = Assert.Throws<ModelFormatException>(() => Serializer.Deserialize(bytes));
        Assert.That(ex!.Message, Does.Contain("checksum mismatch"));
    }

    [Test]
    public void Deserialize_DeclaredSizeAboveLimit_ThrowsOversizedBeforeAllocating()
    {
        var limited = new BinaryModelSerializer(new BinaryModelSerializerOptions { MaxParameterCount = 10 });
        using ModelParameters model = TestModels.Random(TensorLayout.Create(new TensorSpec("w", 11)), 1);
        byte[] bytes = Serializer.SerializeToArray(model);
        var ex = Assert.Throws<ModelFormatException>(() => limited.Deserialize(bytes));
        Assert.That(ex!.Message, Does.Contain("Oversized"));
    }

    [Test]
    public void Deserialize_HugeDimensionsInShortPayload_ThrowsWithoutAllocating()
    {
        // A 2-billion-element tensor declared in a 60-byte payload: rejected as truncated, nothing allocated.
        byte[] header = BuildHeader("w", new[] { 46341, 46341 }, 46341L * 46341);
        long before = GC.GetAllocatedBytesForCurrentThread();
        Assert.Throws<ModelFormatException>(() => Serializer.Deserialize(header));
        Assert.That(GC.GetAllocatedBytesForCurrentThread() - before, Is.LessThan(1 << 20));
    }

    [Test]
    public void Deserialize_ElementCountDisagreesWithShapes_ThrowsCorrupt()
    {
        byte[] header = BuildHeader("w", new[] { 2, 2 }, 5);
        var ex = Assert.Throws<ModelFormatException>(() => Serializer.Deserialize(header));
        Assert.That(ex!.Message, Does.Contain("5 values declared"));
    }

    [Test]
    public void Deserialize_TrailingBytes_ThrowsCorrupt()
    {
        using ModelParameters model = Model();
        byte[] bytes = [.. Serializer.SerializeToArray(model), 0];
        var ex = Assert.Throws<ModelFormatException>(() => Serializer.Deserialize(bytes));
        Assert.That(ex!.Message, Does.Contain("unexpected bytes"));
    }

    [Test]
    public void Deserialize_RandomGarbage_OnlyModelFormatExceptions()
    {
        var random = new DeterministicRandom(99);
        using ModelParameters model = Model();
        byte[] valid = Serializer.SerializeToArray(model);
        for (int i = 0; i < 2000; i++)
        {
            byte[] mutated = (byte[])valid.Clone();
            int flips = 1 + random.Next(4);
            for (int f = 0; f < flips; f++)
            {
                mutated[random.Next(mutated.Length)] ^= (byte)(1 << random.Next(8));
            }

            Assert.Throws<ModelFormatException>(() => Serializer.Deserialize(mutated), $"mutation {i}");
        }
    }

    [Test]
    public async Task DeserializeAsync_AnnouncedLengthMatches_RoundTrips()
    {
        using ModelParameters model = Model();
        byte[] bytes = Serializer.SerializeToArray(model);

        using ModelParameters read = await Serializer.DeserializeAsync(new MemoryStream(bytes), bytes.Length, CancellationToken.None);

        Assert.That(read.Values.ToArray(), Is.EqualTo(model.Values.ToArray()));
    }

    [Test]
    public async Task DeserializeAsync_HeaderClaimsMoreThanTheAnnouncedLength_ThrowsBeforeAllocating()
    {
        // A 1,000-byte payload whose header claims 500 million parameters (2 GB).
        byte[] header = BuildHeader("w", [500_000_000], 500_000_000);
        byte[] payload = new byte[1000];
        header.CopyTo(payload, 0);
        long before = GC.GetAllocatedBytesForCurrentThread();

        var ex = await Assert.ThrowsAsync<ModelFormatException>(async () => await Serializer.DeserializeAsync(new MemoryStream(payload), payload.Length, CancellationToken.None));

        Assert.That(ex!.Message, Does.Contain("but the payload is 1000 bytes"));
        Assert.That(GC.GetAllocatedBytesForCurrentThread() - before, Is.LessThan(1_000_000));
    }

    private static byte[] BuildHeader(string name, int[] shape, long declared)
    {
        var bytes = new List<byte>();
        bytes.AddRange("FSMP"u8.ToArray());
        bytes.AddRange(BitConverter.GetBytes((ushort)1));
        bytes.Add(1);
        bytes.Add(0);
        bytes.AddRange(BitConverter.GetBytes(1u));
        int tableLength = 2 + name.Length + 1 + (4 * shape.Length);
        bytes.AddRange(BitConverter.GetBytes((uint)tableLength));
        bytes.AddRange(BitConverter.GetBytes((ushort)name.Length));
        bytes.AddRange(System.Text.Encoding.UTF8.GetBytes(name));
        bytes.Add((byte)shape.Length);
        foreach (int d in shape)
        {
            bytes.AddRange(BitConverter.GetBytes(d));
        }

        bytes.AddRange(BitConverter.GetBytes((ulong)declared));
        return bytes.ToArray();
    }

    private sealed class Segments : ReadOnlySequenceSegment<byte>
    {
        private Segments(ReadOnlyMemory<byte> memory, long index)
        {
            Memory = memory;
            RunningIndex = index;
        }

        public static ReadOnlySequence<byte> Split(byte[] bytes, int size)
        {
            Segments first = new(bytes.AsMemory(0, Math.Min(size, bytes.Length)), 0);
            Segments last = first;
            for (int offset = size; offset < bytes.Length; offset += size)
            {
                var next = new Segments(bytes.AsMemory(offset, Math.Min(size, bytes.Length - offset)), offset);
                last.Next = next;
                last = next;
            }

            return new ReadOnlySequence<byte>(first, 0, last, last.Memory.Length);
        }
    }
}
