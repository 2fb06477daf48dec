using System.IO.Hashing;
using FederatedSharp.Grpc.DataChannel;
using FederatedSharp.Grpc.Tests.TestUtilities;
using Grpc.Core;

namespace FederatedSharp.Grpc.Tests.DataChannel;

public class ResumableUploadTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    private static byte[] Payload(int length)
    {
        byte[] bytes = new byte[length];
        new Random(length).NextBytes(bytes);
        return bytes;
    }

    /// <summary>The bytes followed by their XxHash3 trailer (XOR <paramref name="corruption"/>), as a client sends them.</summary>
    private static byte[] WithTrailer(byte[] bytes, byte[] all, ulong corruption = 0)
    {
        byte[] trailer = BitConverter.GetBytes(XxHash3.HashToUInt64(all) ^ corruption);
        return [.. bytes, .. trailer];
    }

    private static async Task<byte[]> ReadAllAsync(Stream stream, int length)
    {
        byte[] buffer = new byte[length];
        int at = 0;
        while (at < length)
        {
            int read = await stream.ReadAsync(buffer.AsMemory(at, Math.Min(97, length - at)));
            if (read == 0)
            {
                break;
            }

            at += read;
        }

        return buffer[..at];
    }

    [Test]
    public async Task ReadAsync_ConnectionEndsPartWay_ResumesOnTheNextConnectionAtTheFirstMissingByte()
    {
        byte[] payload = Payload(1000);
        using var upload = new ResumableUpload(payload.Length, 64 * 1024, Timeout, TimeProvider.System);
        var first = new ScriptedConnection(payload[..400]);
        var second = new ScriptedConnection(WithTrailer(payload[400..], payload));
        _ = upload.AttachAsync(first);
        Task<byte[]> reading = ReadAllAsync(upload, payload.Length);

        await first.Exhausted.WithTimeout();
        _ = upload.AttachAsync(second);
        byte[] received = await reading.WithTimeout();
        await upload.EnsureCompleteAsync(CancellationToken.None);

        second.Written.Position = 0;
        DataResponse response = await DataFrames.ReadResponseAsync(second.Written, CancellationToken.None);
        Assert.Multiple(() =>
        {
            Assert.That(received, Is.EqualTo(payload));
            Assert.That(response.Status, Is.EqualTo(StatusCode.OK));
            Assert.That(response.Offset, Is.EqualTo(400), "the second connection is told to resume at the first byte not received");
            Assert.That(upload.Connections, Is.EqualTo(2));
        });
    }

    [Test]
    public async Task EnsureCompleteAsync_BytesDifferFromTheirChecksum_Throws()
    {
        byte[] payload = Payload(300);
        using var upload = new ResumableUpload(payload.Length, 64 * 1024, Timeout, TimeProvider.System);
        _ = upload.AttachAsync(new ScriptedConnection(WithTrailer(payload, payload, corruption: 1)));
        await ReadAllAsync(upload, payload.Length).WithTimeout();

        InvalidDataException? ex = await Assert.ThrowsAsync<InvalidDataException>(() => upload.EnsureCompleteAsync(CancellationToken.None));
        Assert.That(ex!.Message, Does.Contain("do not match their checksum"));
    }

    [Test]
    public async Task ReadAsync_NoConnectionWithinTheTimeout_ThrowsTimeout()
    {
        var clock = new TimerObservingClock();
        using var upload = new ResumableUpload(10, 64 * 1024, Timeout, clock);
        Task<byte[]> reading = ReadAllAsync(upload, 10);

        await clock.WaitForTimerAsync(Timeout).WithTimeout();
        clock.Advance(Timeout + TimeSpan.FromSeconds(1));

        TimeoutException? ex = await Assert.ThrowsAsync<TimeoutException>(() => reading.WithTimeout());
        Assert.That(ex!.Message, Does.Contain("did not resume it within 60 s"));
    }

    [Test]
    public async Task FinishAsync_ConnectionWaitingAfterEveryByteArrived_IsAnsweredWithTheResult()
    {
        byte[] payload = Payload(50);
        using var upload = new ResumableUpload(payload.Length, 64 * 1024, Timeout, TimeProvider.System);
        _ = upload.AttachAsync(new ScriptedConnection(payload));
        await ReadAllAsync(upload, payload.Length).WithTimeout();
        var late = new ScriptedConnection([]);
        Task released = upload.AttachAsync(late);

        await upload.FinishAsync(StatusCode.InvalidArgument, "malformed", CancellationToken.None);
        await released.WithTimeout();

        late.Written.Position = 0;
        DataResponse response = await DataFrames.ReadResponseAsync(late.Written, CancellationToken.None);
        var result = await DataFrames.ReadUploadFrameAsync(late.Written, CancellationToken.None);
        Assert.Multiple(() =>
        {
            Assert.That(response.Offset, Is.EqualTo(50));
            Assert.That(result!.Value.Status, Is.EqualTo(StatusCode.InvalidArgument));
            Assert.That(result.Value.Message, Is.EqualTo("malformed"));
        });
    }
}
