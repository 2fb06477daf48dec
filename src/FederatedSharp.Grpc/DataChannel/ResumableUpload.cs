using System.Buffers.Binary;
using System.IO.Hashing;
using FederatedSharp.Grpc.Streaming;
using Grpc.Core;

namespace FederatedSharp.Grpc.DataChannel;

/// <summary>
/// One task's upload over the data channel, as a stream the server's deserializer reads. The bytes come from whichever
/// connection of the client is attached: a cut connection is dropped and the next one the client opens resumes at
/// the first byte not yet delivered (the server tells it where). The reader waits for a new connection at most the
/// message timeout, so a client that never comes back fails the task instead of holding it. Every byte is hashed and
/// the XxHash3 the client announced is checked at the end.
/// </summary>
internal sealed class ResumableUpload : BoundedReadStream
{
    private readonly object _gate = new();
    private readonly SemaphoreSlim _arrived = new(0);
    private readonly XxHash3? _hash;
    private readonly long _expected;
    private readonly long _ackEvery;
    private readonly TimeSpan _timeout;
    private readonly TimeProvider _time;
    private Connection? _current;
    private Connection? _pending;
    private long _received;
    private long _acknowledged;
    private bool _closed;

    public ResumableUpload(long expectedBytes, int windowBytes, TimeSpan timeout, TimeProvider time, bool verify = true)
    {
        _hash = verify ? new XxHash3() : null;
        _expected = expectedBytes;
        _ackEvery = Math.Max(1, windowBytes / 4);
        _timeout = timeout;
        _time = time;
    }

    public override long Received => Interlocked.Read(ref _received);

    /// <summary>How many connections carried this upload (1 + resumptions).</summary>
    public int Connections { get; private set; }

    /// <summary>
    /// Hands a client's connection to the upload; a connection still attached is cut (the client gave up on it). The
    /// returned task completes when the upload no longer needs the connection, which the caller then closes.
    /// </summary>
    public Task AttachAsync(Stream stream)
    {
        var connection = new Connection(stream, _timeout, _time);
        Connection? replaced;
        lock (_gate)
        {
            if (_closed)
            {
                return Task.FromException(new InvalidOperationException("The upload is over."));
            }

            replaced = _pending;
            _pending = connection;
            Connections++;
            _current?.Cut.Cancel();
        }

        replaced?.Release();
        _arrived.Release();
        return connection.Released.Task;
    }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        while (Received < _expected && !buffer.IsEmpty)
        {
            Connection connection = _current ?? await TakeConnectionAsync(cancellationToken).ConfigureAwait(false);
            int wanted = (int)Math.Min(buffer.Length, _expected - Received);
            int read;
            try
            {
                try
                {
                    read = await connection.Stream.ReadAsync(buffer[..wanted], connection.ReadToken(cancellationToken)).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (connection.Idle.HasExpired && !connection.Cut.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
                {
                    throw new TimeoutException($"No bytes of the uploaded model arrived within {_timeout.TotalSeconds:0.#} s.");
                }

                if (read > 0)
                {
                    connection.Idle.Touch();
                    _hash?.Append(buffer.Span[..read]);
                    long received = Interlocked.Add(ref _received, read);
                    if (received - _acknowledged >= _ackEvery || received == _expected)
                    {
                        _acknowledged = received;
                        await AcknowledgeAsync(connection, received, cancellationToken).ConfigureAwait(false);
                    }

                    return read;
                }
            }
            catch (Exception ex) when (ex is IOException or ObjectDisposedException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
            {
            }

            // The connection ended or was cut: drop it and wait for the client to resume on a new one.
            Drop(connection);
        }

        return 0;
    }

    /// <summary>Checks the length, then reads the client's 8-byte XxHash3 trailer (resuming for it too) and compares.</summary>
    public override async Task EnsureCompleteAsync(CancellationToken cancellationToken)
    {
        if (Received != _expected)
        {
            throw new InvalidDataException($"The uploaded model ended after {Received} bytes; {_expected} were announced.");
        }

        byte[] trailer = new byte[8];
        while (true)
        {
            Connection connection = _current ?? await TakeConnectionAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                if (await connection.Stream.ReadAtLeastAsync(trailer, trailer.Length, throwOnEndOfStream: false, connection.ReadToken(cancellationToken)).ConfigureAwait(false) == trailer.Length)
                {
                    break;
                }
            }
            catch (Exception ex) when (ex is IOException or ObjectDisposedException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
            {
            }

            Drop(connection);
        }

        ulong announced = BinaryPrimitives.ReadUInt64LittleEndian(trailer);
        ulong actual = _hash?.GetCurrentHashAsUInt64() ?? 0;
        if (actual != announced)
        {
            throw new InvalidDataException($"The uploaded bytes do not match their checksum (XxHash3 {actual:x16}, announced {announced:x16}).");
        }
    }

    /// <summary>Ends the upload: tells the attached (or waiting) connection the outcome, then releases every connection.</summary>
    public async Task FinishAsync(StatusCode status, string message, CancellationToken cancellationToken)
    {
        Connection? connection;
        lock (_gate)
        {
            _closed = true;
            // A connection that arrived last is the one the client waits on; it gave up on the one before.
            connection = _pending ?? _current;
            if (connection == _pending)
            {
                _pending = null;
            }
        }

        if (connection is not null)
        {
            try
            {
                if (!connection.Responded)
                {
                    await RespondAsync(connection, cancellationToken).ConfigureAwait(false);
                }

                await DataFrames.WriteResultAsync(connection.Stream, status, message, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is IOException or ObjectDisposedException or OperationCanceledException)
            {
                // The client is gone; it learns the outcome when it comes back (the task is no longer pending).
            }
        }

        lock (_gate)
        {
            _current?.Release();
            _pending?.Release();
            connection?.Release();
            _current = _pending = null;
        }
    }

    private async Task<Connection> TakeConnectionAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            Connection? connection;
            lock (_gate)
            {
                connection = _pending;
                _pending = null;
                _current = connection;
            }

            if (connection is not null)
            {
                try
                {
                    _acknowledged = Received;
                    await RespondAsync(connection, cancellationToken).ConfigureAwait(false);
                    return connection;
                }
                catch (Exception ex) when (ex is IOException or ObjectDisposedException)
                {
                    Drop(connection);
                    continue;
                }
            }

            using var deadline = new CancellationTokenSource(_timeout, _time);
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, deadline.Token);
            try
            {
                await _arrived.WaitAsync(linked.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                throw new TimeoutException(
                    $"The upload was cut after {Received} of {_expected} bytes and the client did not resume it within {_timeout.TotalSeconds:0.#} s.");
            }
        }
    }

    // The bytes just read are delivered whatever happens to the acknowledgement: a connection that cannot take it is
    // dropped, and the client resumes after the last byte delivered.
    private async Task AcknowledgeAsync(Connection connection, long received, CancellationToken cancellationToken)
    {
        try
        {
            await DataFrames.WriteAckAsync(connection.Stream, received, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or ObjectDisposedException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
        {
            Drop(connection);
        }
    }

    // Tells a connection where the server's copy ends, so the client sends from there.
    private Task RespondAsync(Connection connection, CancellationToken cancellationToken)
    {
        connection.Responded = true;
        return DataFrames.WriteResponseAsync(connection.Stream, new DataResponse(StatusCode.OK, "", _expected, Received), cancellationToken);
    }

    private void Drop(Connection connection)
    {
        lock (_gate)
        {
            if (_current == connection)
            {
                _current = null;
            }
        }

        connection.Release();
        connection.Stream.Dispose();
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _arrived.Dispose();
        }

        base.Dispose(disposing);
    }

    private sealed class Connection(Stream stream, TimeSpan timeout, TimeProvider time)
    {
        private CancellationTokenSource? _reads;
        private CancellationToken _readsFor;

        public Stream Stream { get; } = stream;

        public CancellationTokenSource Cut { get; } = new();

        public IdleWatchdog Idle { get; } = new(timeout, time);

        public TaskCompletionSource Released { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public bool Responded { get; set; }

        /// <summary>Cancelled by the reader's token, a cut, or the connection idle for the timeout (one link per reader token).</summary>
        public CancellationToken ReadToken(CancellationToken cancellationToken)
        {
            if (_reads is null || _readsFor != cancellationToken)
            {
                _reads?.Dispose();
                _reads = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, Cut.Token, Idle.Token);
                _readsFor = cancellationToken;
            }

            return _reads.Token;
        }

        public void Release()
        {
            if (Released.TrySetResult())
            {
                Idle.Dispose();
            }
        }
    }
}
