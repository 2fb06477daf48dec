using System.IO.Hashing;
using FederatedSharp.Grpc.Diagnostics;
using FederatedSharp.Grpc.Streaming;

namespace FederatedSharp.Grpc.DataChannel;

/// <summary>
/// A task's model as the client's deserializer reads it from the data channel. It reads straight from the connection
/// into the deserializer's buffer, acknowledges every quarter window, and after a cut opens a new connection that
/// asks for the first byte not yet read, so nothing already received is sent again. The bytes are hashed and checked
/// against the XxHash3 trailer the server sends after the last byte (unless the format checksums itself: then both
/// sides leave the trailer 0 and the deserializer checks).
/// </summary>
internal sealed class ResumingDownloadStream(DataChannelClient client, string taskId, long total, bool verify) : BoundedReadStream
{
    private readonly XxHash3? _hash = verify ? new XxHash3() : null;
    private readonly byte[] _scratch = new byte[8];
    private readonly long _ackEvery = Math.Max(1, client.WindowBytes / 4);
    private Stream? _connection;
    private long _received;
    private long _acknowledged;
    private int _failures;
    private Exception? _lastCause;
    private IdleWatchdog? _idle;
    private CancellationTokenSource? _reads;
    private CancellationToken _readsFor;

    public override long Received => _received;

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        while (_received < total && !buffer.IsEmpty)
        {
            Stream connection = _connection ??= await OpenAsync(cancellationToken).ConfigureAwait(false);
            int wanted = (int)Math.Min(buffer.Length, total - _received);
            try
            {
                int read = await connection.ReadAsync(buffer[..wanted], ReadToken(cancellationToken)).ConfigureAwait(false);
                if (read > 0)
                {
                    _idle!.Touch();
                    _failures = 0;
                    _hash?.Append(buffer.Span[..read]);
                    _received += read;
                    if (_received - _acknowledged >= _ackEvery || _received == total)
                    {
                        _acknowledged = _received;
                        await AcknowledgeAsync(connection, cancellationToken).ConfigureAwait(false);
                    }

                    return read;
                }

                _lastCause = new EndOfStreamException("the server closed the data connection");
            }
            catch (Exception ex) when (DataChannelClient.IsConnectionFailure(ex, cancellationToken))
            {
                _lastCause = ex is OperationCanceledException ? new TimeoutException($"no bytes within {client.Options.MessageTimeout.TotalSeconds:0.#} s") : ex;
            }

            await CloseAsync().ConfigureAwait(false);
        }

        return 0;
    }

    /// <summary>Checks the length, then reads the server's 8-byte XxHash3 trailer (resuming for it too) and compares.</summary>
    public override async Task EnsureCompleteAsync(CancellationToken cancellationToken)
    {
        if (_received != total)
        {
            throw new InvalidDataException($"The global model ended after {_received} bytes; {total} were announced.");
        }

        byte[] trailer = new byte[8];
        while (true)
        {
            Stream connection = _connection ??= await OpenAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                if (await connection.ReadAtLeastAsync(trailer, trailer.Length, throwOnEndOfStream: false, ReadToken(cancellationToken)).ConfigureAwait(false) == trailer.Length)
                {
                    break;
                }

                _lastCause = new EndOfStreamException("the server closed the data connection before the checksum");
            }
            catch (Exception ex) when (DataChannelClient.IsConnectionFailure(ex, cancellationToken))
            {
                _lastCause = ex;
            }

            await CloseAsync().ConfigureAwait(false);
        }

        ulong announced = System.Buffers.Binary.BinaryPrimitives.ReadUInt64LittleEndian(trailer);
        ulong actual = _hash?.GetCurrentHashAsUInt64() ?? 0;
        if (actual != announced)
        {
            throw new InvalidDataException($"The downloaded bytes do not match their checksum (XxHash3 {actual:x16}, announced {announced:x16}).");
        }
    }

    public override async ValueTask DisposeAsync()
    {
        await CloseAsync().ConfigureAwait(false);
        await base.DisposeAsync().ConfigureAwait(false);
    }

    /// <summary>A connection positioned at the first byte not yet read, after at most the allowed attempts.</summary>
    private async Task<Stream> OpenAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            if (_failures > client.Options.MaxResumeAttempts)
            {
                throw new IOException(
                    $"The download of task '{taskId}' could not resume after {client.Options.MaxResumeAttempts} attempts at byte {_received} of {total}: {_lastCause?.Message}", _lastCause);
            }

            await client.BackOffAsync(_failures, cancellationToken).ConfigureAwait(false);
            _failures++;
            Stream? stream = null;
            try
            {
                stream = await client.ConnectAsync(cancellationToken).ConfigureAwait(false);
                await DataFrames.WriteRequestAsync(stream, new DataRequest(DataOperation.Download, taskId, client.Authorization, _received, []), cancellationToken).ConfigureAwait(false);
                DataResponse response = await client.ReadResponseAsync(stream, cancellationToken).ConfigureAwait(false);
                if (response.Total != total || response.Offset != _received)
                {
                    throw new InvalidDataException($"The server offered bytes {response.Offset}.. of {response.Total}; bytes {_received}.. of {total} were wanted.");
                }

                _acknowledged = _received;
                _idle = new IdleWatchdog(client.Options.MessageTimeout, client.Time);
                if (_received > 0)
                {
                    GrpcLog.TransferResuming(client.Logger, "download", taskId, _received, total);
                }

                return stream;
            }
            catch (Exception ex) when (DataChannelClient.IsConnectionFailure(ex, cancellationToken))
            {
                _lastCause = ex;
                if (stream is not null)
                {
                    await stream.DisposeAsync().ConfigureAwait(false);
                }
            }
            catch
            {
                if (stream is not null)
                {
                    await stream.DisposeAsync().ConfigureAwait(false);
                }

                throw;
            }
        }
    }

    // The bytes just read are delivered whatever happens to the acknowledgement: a connection that cannot take it is
    // closed, and the next read resumes after the last byte delivered.
    private async Task AcknowledgeAsync(Stream connection, CancellationToken cancellationToken)
    {
        try
        {
            await DataFrames.WriteOffsetAsync(connection, _scratch, _received, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (DataChannelClient.IsConnectionFailure(ex, cancellationToken))
        {
            _lastCause = ex;
            await CloseAsync().ConfigureAwait(false);
        }
    }

    // Cancelled by the reader's token or the connection idle for the message timeout (one link per reader token).
    private CancellationToken ReadToken(CancellationToken cancellationToken)
    {
        if (_reads is null || _readsFor != cancellationToken)
        {
            _reads?.Dispose();
            _reads = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _idle!.Token);
            _readsFor = cancellationToken;
        }

        return _reads.Token;
    }

    private async Task CloseAsync()
    {
        if (_connection is { } connection)
        {
            _connection = null;
            _reads?.Dispose();
            _reads = null;
            _idle?.Dispose();
            _idle = null;
            await connection.DisposeAsync().ConfigureAwait(false);
        }
    }
}
