using System.Buffers.Binary;
using System.Text;
using Grpc.Core;

namespace FederatedSharp.Grpc.DataChannel;

/// <summary>The two directions of a data-channel connection.</summary>
internal enum DataOperation : byte
{
    /// <summary>The client downloads a task's model from an offset.</summary>
    Download = 1,

    /// <summary>The client uploads a task's result, resuming where the server's copy ends.</summary>
    Upload = 2,
}

/// <summary>What a client asks for when it opens a data connection.</summary>
/// <param name="Operation">Download or upload.</param>
/// <param name="TaskId">The task the bytes belong to.</param>
/// <param name="Authorization">The bearer token, or empty (a client certificate authenticates on TLS).</param>
/// <param name="Offset">Download: the first byte wanted. Upload: 0 (the server says where to resume).</param>
/// <param name="Header">Upload: the serialized result header (metrics, counts, the model's size). Download: empty.</param>
internal sealed record DataRequest(DataOperation Operation, string TaskId, string Authorization, long Offset, byte[] Header);

/// <summary>The server's answer to a <see cref="DataRequest"/>, before any model bytes.</summary>
/// <param name="Status">OK, or why the request is refused.</param>
/// <param name="Message">The refusal's reason; empty when OK.</param>
/// <param name="Total">The transfer's full length in bytes.</param>
/// <param name="Offset">Where the bytes that follow (download) or the bytes wanted next (upload) start.</param>
internal sealed record DataResponse(StatusCode Status, string Message, long Total, long Offset);

/// <summary>
/// The data channel's framing: a request, a response, then raw model bytes one way and cumulative acknowledgements
/// (8-byte offsets) the other way. Every body is followed by its 8-byte XxHash3; an upload is answered with a result
/// frame. All integers little-endian.
/// </summary>
internal static class DataFrames
{
    /// <summary>The first bytes of every request: "FSD" and the framing version.</summary>
    public static ReadOnlySpan<byte> Magic => "FSD1"u8;

    /// <summary>An acknowledgement frame of an upload (server to client): tag, then the 8-byte offset.</summary>
    public const byte AckTag = (byte)'A';

    /// <summary>The result frame ending an upload (server to client): tag, status, reason.</summary>
    public const byte ResultTag = (byte)'R';

    private const int MaxTaskIdBytes = 256;
    private const int MaxAuthorizationBytes = 4096;
    private const int MaxHeaderBytes = 16 * 1024 * 1024;
    private const int MaxMessageBytes = 4096;

    public static async Task WriteRequestAsync(Stream stream, DataRequest request, CancellationToken cancellationToken)
    {
        byte[] taskId = Encoding.UTF8.GetBytes(request.TaskId);
        byte[] authorization = Encoding.UTF8.GetBytes(request.Authorization);
        byte[] frame = new byte[4 + 4 + 2 + taskId.Length + 2 + authorization.Length + 8 + 4 + request.Header.Length];
        var writer = new FrameWriter(frame);
        writer.Bytes(Magic);
        writer.Bytes([(byte)request.Operation, 0, 0, 0]);
        writer.Short(taskId);
        writer.Short(authorization);
        writer.Long(request.Offset);
        writer.Int(request.Header.Length);
        writer.Bytes(request.Header);
        await stream.WriteAsync(frame, cancellationToken).ConfigureAwait(false);
        await stream.FlushAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Reads a request; malformed or oversized fields throw <see cref="InvalidDataException"/>.</summary>
    public static async Task<DataRequest> ReadRequestAsync(Stream stream, CancellationToken cancellationToken)
    {
        byte[] fixedPart = new byte[8];
        await ReadExactlyAsync(stream, fixedPart, cancellationToken).ConfigureAwait(false);
        if (!fixedPart.AsSpan(0, 4).SequenceEqual(Magic))
        {
            throw new InvalidDataException("Not a FederatedSharp data-channel request (bad magic).");
        }

        var operation = (DataOperation)fixedPart[4];
        if (operation is not (DataOperation.Download or DataOperation.Upload))
        {
            throw new InvalidDataException($"Unknown data-channel operation {fixedPart[4]}.");
        }

        string taskId = await ReadShortStringAsync(stream, MaxTaskIdBytes, "task id", cancellationToken).ConfigureAwait(false);
        string authorization = await ReadShortStringAsync(stream, MaxAuthorizationBytes, "authorization", cancellationToken).ConfigureAwait(false);
        byte[] numbers = new byte[12];
        await ReadExactlyAsync(stream, numbers, cancellationToken).ConfigureAwait(false);
        long offset = BinaryPrimitives.ReadInt64LittleEndian(numbers);
        int headerLength = BinaryPrimitives.ReadInt32LittleEndian(numbers.AsSpan(8));
        if (offset < 0 || headerLength < 0 || headerLength > MaxHeaderBytes)
        {
            throw new InvalidDataException($"Invalid data-channel request: offset {offset}, header of {headerLength} bytes.");
        }

        byte[] header = new byte[headerLength];
        await ReadExactlyAsync(stream, header, cancellationToken).ConfigureAwait(false);
        return new DataRequest(operation, taskId, authorization, offset, header);
    }

    public static async Task WriteResponseAsync(Stream stream, DataResponse response, CancellationToken cancellationToken)
    {
        byte[] message = Encoding.UTF8.GetBytes(Truncate(response.Message));
        byte[] frame = new byte[1 + 2 + message.Length + 16];
        var writer = new FrameWriter(frame);
        writer.Bytes([(byte)response.Status]);
        writer.Short(message);
        writer.Long(response.Total);
        writer.Long(response.Offset);
        await stream.WriteAsync(frame, cancellationToken).ConfigureAwait(false);
        await stream.FlushAsync(cancellationToken).ConfigureAwait(false);
    }

    public static async Task<DataResponse> ReadResponseAsync(Stream stream, CancellationToken cancellationToken)
    {
        byte[] status = new byte[1];
        await ReadExactlyAsync(stream, status, cancellationToken).ConfigureAwait(false);
        string message = await ReadShortStringAsync(stream, MaxMessageBytes, "message", cancellationToken).ConfigureAwait(false);
        byte[] numbers = new byte[16];
        await ReadExactlyAsync(stream, numbers, cancellationToken).ConfigureAwait(false);
        return new DataResponse((StatusCode)status[0], message, BinaryPrimitives.ReadInt64LittleEndian(numbers), BinaryPrimitives.ReadInt64LittleEndian(numbers.AsSpan(8)));
    }

    /// <summary>Writes a bare cumulative acknowledgement (download: client to server).</summary>
    public static ValueTask WriteOffsetAsync(Stream stream, byte[] scratch, long offset, CancellationToken cancellationToken)
    {
        BinaryPrimitives.WriteInt64LittleEndian(scratch, offset);
        return stream.WriteAsync(scratch.AsMemory(0, 8), cancellationToken);
    }

    /// <summary>Reads a bare acknowledgement; null at the end of the stream.</summary>
    public static async Task<long?> ReadOffsetAsync(Stream stream, byte[] scratch, CancellationToken cancellationToken)
    {
        int read = await stream.ReadAtLeastAsync(scratch.AsMemory(0, 8), 8, throwOnEndOfStream: false, cancellationToken).ConfigureAwait(false);
        return read < 8 ? null : BinaryPrimitives.ReadInt64LittleEndian(scratch);
    }

    /// <summary>Writes an upload acknowledgement frame (server to client).</summary>
    public static async Task WriteAckAsync(Stream stream, long offset, CancellationToken cancellationToken)
    {
        byte[] frame = new byte[9];
        frame[0] = AckTag;
        BinaryPrimitives.WriteInt64LittleEndian(frame.AsSpan(1), offset);
        await stream.WriteAsync(frame, cancellationToken).ConfigureAwait(false);
        await stream.FlushAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Writes the frame that ends an upload: accepted, or refused with the reason.</summary>
    public static async Task WriteResultAsync(Stream stream, StatusCode status, string message, CancellationToken cancellationToken)
    {
        byte[] text = Encoding.UTF8.GetBytes(Truncate(message));
        byte[] frame = new byte[2 + 2 + text.Length];
        var writer = new FrameWriter(frame);
        writer.Bytes([ResultTag, (byte)status]);
        writer.Short(text);
        await stream.WriteAsync(frame, cancellationToken).ConfigureAwait(false);
        await stream.FlushAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Reads the next upload frame: an acknowledgement (offset) or the result (status and reason); null at the end of the stream.</summary>
    public static async Task<(long? Ack, StatusCode Status, string Message)?> ReadUploadFrameAsync(Stream stream, CancellationToken cancellationToken)
    {
        byte[] tag = new byte[9];
        if (await stream.ReadAtLeastAsync(tag.AsMemory(0, 1), 1, throwOnEndOfStream: false, cancellationToken).ConfigureAwait(false) == 0)
        {
            return null;
        }

        switch (tag[0])
        {
            case AckTag:
                await ReadExactlyAsync(stream, tag.AsMemory(1, 8), cancellationToken).ConfigureAwait(false);
                return (BinaryPrimitives.ReadInt64LittleEndian(tag.AsSpan(1)), StatusCode.OK, "");
            case ResultTag:
                await ReadExactlyAsync(stream, tag.AsMemory(1, 1), cancellationToken).ConfigureAwait(false);
                string message = await ReadShortStringAsync(stream, MaxMessageBytes, "message", cancellationToken).ConfigureAwait(false);
                return (null, (StatusCode)tag[1], message);
            default:
                throw new InvalidDataException($"Unknown upload frame tag {tag[0]}.");
        }
    }

    /// <summary>The 8-byte trailer that follows a body: its XxHash3.</summary>
    public static byte[] Checksum(ulong hash)
    {
        byte[] trailer = new byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(trailer, hash);
        return trailer;
    }

    private static string Truncate(string message) => message.Length <= 1000 ? message : message[..1000];

    private static async Task<string> ReadShortStringAsync(Stream stream, int maxBytes, string what, CancellationToken cancellationToken)
    {
        byte[] length = new byte[2];
        await ReadExactlyAsync(stream, length, cancellationToken).ConfigureAwait(false);
        int count = BinaryPrimitives.ReadUInt16LittleEndian(length);
        if (count > maxBytes)
        {
            throw new InvalidDataException($"The {what} is {count} bytes long; at most {maxBytes} are allowed.");
        }

        byte[] text = new byte[count];
        await ReadExactlyAsync(stream, text, cancellationToken).ConfigureAwait(false);
        return Encoding.UTF8.GetString(text);
    }

    private static async Task ReadExactlyAsync(Stream stream, Memory<byte> buffer, CancellationToken cancellationToken)
    {
        int read = await stream.ReadAtLeastAsync(buffer, buffer.Length, throwOnEndOfStream: false, cancellationToken).ConfigureAwait(false);
        if (read < buffer.Length)
        {
            throw new EndOfStreamException("The data connection closed in the middle of a frame.");
        }
    }

    private ref struct FrameWriter(Span<byte> frame)
    {
        private readonly Span<byte> _frame = frame;
        private int _at;

        public void Bytes(scoped ReadOnlySpan<byte> bytes)
        {
            bytes.CopyTo(_frame[_at..]);
            _at += bytes.Length;
        }

        public void Short(scoped ReadOnlySpan<byte> bytes)
        {
            if (bytes.Length > ushort.MaxValue)
            {
                throw new ArgumentException($"A data-channel string field is {bytes.Length} bytes; at most {ushort.MaxValue}.");
            }

            BinaryPrimitives.WriteUInt16LittleEndian(_frame[_at..], (ushort)bytes.Length);
            _at += 2;
            Bytes(bytes);
        }

        public void Int(int value)
        {
            BinaryPrimitives.WriteInt32LittleEndian(_frame[_at..], value);
            _at += 4;
        }

        public void Long(long value)
        {
            BinaryPrimitives.WriteInt64LittleEndian(_frame[_at..], value);
            _at += 8;
        }
    }
}
