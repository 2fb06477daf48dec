using Microsoft.Extensions.Time.Testing;
using FederatedSharp.Grpc.Streaming;
using FederatedSharp.Parameters;
using FederatedSharp.Serialization;

namespace FederatedSharp.Grpc.Tests.Streaming;

public class ChunkedPayloadTests
{
    private static ModelParameters Model(int length, int seed)
    {
        var layout = TensorLayout.Create(new TensorSpec("a", [length]), new TensorSpec("b", [3]));
        var p = ModelParameters.Create(layout);
        var random = new Random(seed);
        for (int i = 0; i < p.Length; i++)
        {
            p.Values[i] = (float)random.NextDouble();
        }

        return p;
    }

    private static ChunkReadStream Reader(ChunkedPayload payload, int sliceBytes, long? announced = null)
    {
        IEnumerator<ReadOnlyMemory<byte>> slices = payload.Slices(sliceBytes).GetEnumerator();
        return new ChunkReadStream(_ => Task.FromResult(slices.MoveNext() ? (ReadOnlyMemory<byte>?)slices.Current : null), announced ?? payload.Length, TimeSpan.FromSeconds(5), "test model", TimeProvider.System);
    }

    [TestCase(0, 1024)]
    [TestCase(1, 1024)]
    [TestCase(1000, 1024)]
    [TestCase(300_007, 1024)]
    [TestCase(300_007, 65_536)]
    [TestCase(300_007, 1_048_576)]
    public async Task Serialize_ThenReadThroughChunkStream_RoundTripsExactly(int length, int chunkBytes)
    {
        var serializer = new BinaryModelSerializer();
        using ModelParameters model = Model(length, length);
        ChunkedPayload payload = new ChunkedPayload(chunkBytes);
        serializer.Serialize(model, payload);
        payload.Complete();
        ChunkReadStream stream = Reader(payload, chunkBytes);

        using ModelParameters read = await serializer.DeserializeAsync(stream);
        await stream.EnsureCompleteAsync(CancellationToken.None);

        Assert.Multiple(() =>
        {
            Assert.That(payload.Length, Is.EqualTo(BinaryModelSerializer.GetSerializedLength(model)));
            Assert.That(payload.Slices(chunkBytes).All(s => s.Length <= chunkBytes), Is.True);
            Assert.That(read.Values.ToArray(), Is.EqualTo(model.Values.ToArray()));
        });
    }

    [Test]
    public async Task ReadAsync_FewerBytesThanAnnounced_ThrowsTruncated()
    {
        using ModelParameters model = Model(1000, 1);
        var payload = new ChunkedPayload(1024);
        new BinaryModelSerializer().Serialize(model, payload);
        payload.Complete();

        ChunkReadStream stream = Reader(payload, 1024, payload.Length + 10);
        using ModelParameters read = await new BinaryModelSerializer().DeserializeAsync(stream);

        var ex = await Assert.ThrowsAsync<InvalidDataException>(async () => await stream.EnsureCompleteAsync(CancellationToken.None));

        Assert.That(ex!.Message, Does.Contain("truncated"));
    }

    [Test]
    public async Task ReadAsync_MoreBytesThanAnnounced_Throws()
    {
        using ModelParameters model = Model(1000, 1);
        var payload = new ChunkedPayload(1024);
        new BinaryModelSerializer().Serialize(model, payload);
        payload.Complete();

        var ex = await Assert.ThrowsAsync<InvalidDataException>(async () => await new BinaryModelSerializer().DeserializeAsync(Reader(payload, 1024, 100)));

        Assert.That(ex!.Message, Does.Contain("longer than the 100 bytes announced"));
    }

    [Test]
    public async Task ReadAsync_NoChunkWithinTimeout_ThrowsTimeout()
    {
        var clock = new FakeTimeProvider();
        var waiting = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var stream = new ChunkReadStream(
            async ct =>
            {
                waiting.TrySetResult();
                await Task.Delay(Timeout.Infinite, ct);
                return null;
            },
            10,
            TimeSpan.FromSeconds(60),
            "test model",
            clock);

        Task read = stream.ReadExactlyAsync(new byte[4]).AsTask();
        await waiting.Task.WaitAsync(TimeSpan.FromSeconds(30));
        clock.Advance(TimeSpan.FromSeconds(59));
        Assert.That(read.IsCompleted, Is.False, "the read waits until the chunk deadline");
        clock.Advance(TimeSpan.FromSeconds(1));
        var ex = await Assert.ThrowsAsync<TimeoutException>(async () => await read.WaitAsync(TimeSpan.FromSeconds(30)));

        Assert.That(ex!.Message, Does.Contain("No chunk of the test model"));
    }

    [TestCase(0)]
    [TestCase(1)]
    [TestCase(4095)]
    [TestCase(4096)]
    [TestCase(4097)]
    [TestCase(20_000)]
    public void Slices_FromAnOffset_AreExactlyTheBytesFromThere(int offset)
    {
        using ModelParameters model = Model(4_900, 3);
        var payload = new ChunkedPayload(4096);
        new BinaryModelSerializer().Serialize(model, payload);
        payload.Complete();
        byte[] whole = payload.Slices(1000).SelectMany(s => s.ToArray()).ToArray();
        offset = Math.Min(offset, whole.Length);

        byte[] tail = payload.Slices(offset, 777).SelectMany(s => s.ToArray()).ToArray();

        Assert.That(tail, Is.EqualTo(whole[offset..]));
        Assert.That(payload.Slices(offset, 777).All(s => s.Length <= 777), Is.True);
    }
}
