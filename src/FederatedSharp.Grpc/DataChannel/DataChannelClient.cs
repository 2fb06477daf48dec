using System.Runtime.CompilerServices;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using FederatedSharp.Grpc.Client;
using FederatedSharp.Grpc.Diagnostics;
using FederatedSharp.Grpc.Protocol;
using FederatedSharp.Grpc.Security;
using FederatedSharp.Grpc.Streaming;
using FederatedSharp.Parameters;
using Google.Protobuf;
using Grpc.Core;
using Microsoft.Extensions.Logging;

namespace FederatedSharp.Grpc.DataChannel;

/// <summary>
/// The client end of the data channel: each transfer on a connection of its own (TLS with the client certificate
/// when the gRPC address is https), resumed on a new connection from the last acknowledged byte after a cut, and
/// given up with the reason after <see cref="GrpcClientOptions.MaxResumeAttempts"/> attempts without progress.
/// </summary>
internal sealed class DataChannelClient(GrpcClientOptions options, int port, int windowBytes, ILogger logger, TimeProvider time) : IModelTransfer
{
    public int WindowBytes { get; } = windowBytes;

    public GrpcClientOptions Options => options;

    public ILogger Logger => logger;

    public TimeProvider Time => time;

    public string Authorization => options.BearerToken is { Length: > 0 } token ? "Bearer " + token : "";

    public async Task<ModelParameters> DownloadAsync(TaskInstruction task, CancellationToken cancellationToken)
    {
        var stream = new ResumingDownloadStream(this, task.TaskId, task.ModelBytes, verify: !options.Serializer.ChecksumsPayload);
        await using ConfiguredAsyncDisposable disposal = stream.ConfigureAwait(false);
        ModelParameters parameters = await stream.ReadModelAsync(options.Serializer, task.ModelBytes, cancellationToken).ConfigureAwait(false);
        GrpcInstruments.BytesReceived.Add(stream.Received, GrpcInstruments.Client);
        return parameters;
    }

    public async Task UploadAsync(ResultHeader header, ModelBody? body, CancellationToken cancellationToken)
    {
        byte[] headerBytes = header.ToByteArray();
        long length = body?.Length ?? 0;
        long resumedAt = -1;
        int failures = 0;
        while (true)
        {
            Exception cause;
            Stream? stream = null;
            try
            {
                await BackOffAsync(failures, cancellationToken).ConfigureAwait(false);
                stream = await ConnectAsync(cancellationToken).ConfigureAwait(false);
                await DataFrames.WriteRequestAsync(stream, new DataRequest(DataOperation.Upload, header.TaskId, Authorization, 0, headerBytes), cancellationToken).ConfigureAwait(false);
                DataResponse response = await ReadResponseAsync(stream, cancellationToken).ConfigureAwait(false);
                if (response.Offset < 0 || response.Offset > length)
                {
                    throw new InvalidDataException($"The server asked to resume the upload at byte {response.Offset} of {length}.");
                }

                if (response.Offset > resumedAt)
                {
                    failures = 0;
                    resumedAt = response.Offset;
                }

                if (response.Offset > 0)
                {
                    GrpcLog.TransferResuming(logger, "upload", header.TaskId, response.Offset, length);
                }

                (StatusCode status, string message) = await SendFromAsync(stream, body, response.Offset, cancellationToken).ConfigureAwait(false);
                if (status != StatusCode.OK)
                {
                    throw new RpcException(new Status(status, message));
                }

                return;
            }
            catch (Exception ex) when (IsConnectionFailure(ex, cancellationToken))
            {
                cause = ex;
            }
            finally
            {
                if (stream is not null)
                {
                    await stream.DisposeAsync().ConfigureAwait(false);
                }
            }

            if (++failures > options.MaxResumeAttempts)
            {
                throw new IOException(
                    $"The upload of task '{header.TaskId}' could not resume after {options.MaxResumeAttempts} attempts ({Math.Max(0, resumedAt)} of {length} bytes acknowledged): {cause.Message}", cause);
            }
        }
    }

    /// <summary>True for what a cut, refused or stalled connection throws (not a cancellation of the task).</summary>
    public static bool IsConnectionFailure(Exception ex, CancellationToken cancellationToken) =>
        !cancellationToken.IsCancellationRequested && ex is IOException or SocketException or AuthenticationException or OperationCanceledException or ObjectDisposedException;

    /// <summary>Waits before attempt <paramref name="failures"/> + 1: nothing for the first, then doubling from the reconnect delay.</summary>
    public Task BackOffAsync(int failures, CancellationToken cancellationToken)
    {
        if (failures == 0)
        {
            return Task.CompletedTask;
        }

        double seconds = Math.Min(options.MaxReconnectDelay.TotalSeconds, options.InitialReconnectDelay.TotalSeconds * Math.Pow(2, failures - 1));
        return Task.Delay(TimeSpan.FromSeconds(seconds), time, cancellationToken);
    }

    /// <summary>Opens a connection to the data port, with TLS and the client certificate when the gRPC address is https.</summary>
    public async Task<Stream> ConnectAsync(CancellationToken cancellationToken)
    {
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(15), time);
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, deadline.Token);
            string host = options.ServerAddress!.Host;
            await socket.ConnectAsync(host, port, linked.Token).ConfigureAwait(false);
            Stream stream = new NetworkStream(socket, ownsSocket: true);
            if (options.ServerAddress.Scheme != Uri.UriSchemeHttps)
            {
                return stream;
            }

            var ssl = new SslStream(stream, leaveInnerStreamOpen: false);
            try
            {
                await ssl.AuthenticateAsClientAsync(
                    new SslClientAuthenticationOptions
                    {
                        TargetHost = host,
                        ClientCertificates = options.ClientCertificate is { } certificate ? new X509CertificateCollection { certificate } : null,
                        RemoteCertificateValidationCallback = options.TrustedCertificateAuthority is { } authority ? FederationCertificates.ServerValidator(authority) : null,
                    },
                    linked.Token).ConfigureAwait(false);
                return ssl;
            }
            catch
            {
                await ssl.DisposeAsync().ConfigureAwait(false);
                throw;
            }
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>Reads the server's answer to a request; a refusal becomes the <see cref="RpcException"/> gRPC would have thrown.</summary>
    public async Task<DataResponse> ReadResponseAsync(Stream stream, CancellationToken cancellationToken)
    {
        using var deadline = new CancellationTokenSource(options.MessageTimeout, time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, deadline.Token);
        DataResponse response = await DataFrames.ReadResponseAsync(stream, linked.Token).ConfigureAwait(false);
        return response.Status == StatusCode.OK ? response : throw new RpcException(new Status(response.Status, response.Message));
    }

    /// <summary>
    /// Writes the body (the bytes from <paramref name="offset"/> on the wire, within the window) and its XxHash3, and
    /// returns the server's verdict.
    /// </summary>
    private async Task<(StatusCode Status, string Message)> SendFromAsync(Stream stream, ModelBody? body, long offset, CancellationToken cancellationToken)
    {
        var window = new AckWindow(offset, time);
        var verdict = new TaskCompletionSource<(StatusCode, string)>(TaskCreationOptions.RunContinuationsAsynchronously);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        Task reader = ReadVerdictAsync(stream, window, verdict, stop.Token);
        try
        {
            var writer = new ResumeWriteStream(stream, offset, window, WindowBytes, Math.Min(options.ChunkBytes, WindowBytes / 2), hash: !options.Uplink.ChecksumsPayload);
            if (body is not null)
            {
                await body.WriteToAsync(writer, cancellationToken).ConfigureAwait(false);
                if (writer.Position != body.Length)
                {
                    throw new InvalidOperationException($"The serializer wrote {writer.Position} bytes but announced {body.Length}.");
                }
            }

            await stream.WriteAsync(DataFrames.Checksum(writer.Checksum), cancellationToken).ConfigureAwait(false);
            await stream.FlushAsync(cancellationToken).ConfigureAwait(false);
            GrpcInstruments.BytesSent.Add(writer.Sent, GrpcInstruments.Client);
            return await verdict.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            await stop.CancelAsync().ConfigureAwait(false);
            await reader.ConfigureAwait(false);
        }
    }

    private static async Task ReadVerdictAsync(Stream stream, AckWindow window, TaskCompletionSource<(StatusCode, string)> verdict, CancellationToken cancellationToken)
    {
        try
        {
            while (await DataFrames.ReadUploadFrameAsync(stream, cancellationToken).ConfigureAwait(false) is { } frame)
            {
                if (frame.Ack is long offset)
                {
                    window.Acknowledge(offset);
                    continue;
                }

                verdict.TrySetResult((frame.Status, frame.Message));
                return;
            }

            throw new EndOfStreamException("The server closed the data connection before its verdict on the upload.");
        }
        catch (Exception ex) when (ex is IOException or InvalidDataException or OperationCanceledException or ObjectDisposedException)
        {
            window.Fail(ex);
            verdict.TrySetException(ex is InvalidDataException ? ex : new IOException(ex.Message, ex));
        }
    }
}
