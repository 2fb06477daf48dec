using FederatedSharp.Grpc.Diagnostics;
using FederatedSharp.Grpc.Protocol;
using FederatedSharp.Grpc.Server;
using FederatedSharp.Grpc.Streaming;
using Google.Protobuf;
using Grpc.Core;

namespace FederatedSharp.Grpc.DataChannel;

/// <summary>The data channel's two transfers on the server: a task's model down, a task's result up.</summary>
internal sealed partial class DataChannelServer
{
    /// <summary>
    /// Streams a task's model from the requested offset (serialized while it is sent, where the format allows, so the
    /// server holds no serialized copy), keeping at most one window beyond the client's acknowledgements; then its
    /// XxHash3; then waits for the last acknowledgement.
    /// </summary>
    private async Task SendAsync(Stream stream, DataRequest request, string? identity, string peer)
    {
        PendingTask task = _sessions.FindTask(request.TaskId, identity, peer, "DataDownload");
        if (task.Model is not { } model)
        {
            throw _guard.Refuse(peer, "DataDownload", StatusCode.InvalidArgument, $"Task '{request.TaskId}' has no model.");
        }

        if (request.Offset > task.ModelBytes)
        {
            throw _guard.Refuse(peer, "DataDownload", StatusCode.OutOfRange, $"Offset {request.Offset} is past the end of the {task.ModelBytes}-byte model.");
        }

        if (request.Offset > 0)
        {
            GrpcLog.TransferResuming(_logger, "download", request.TaskId, request.Offset, task.ModelBytes);
        }

        using var linked = CancellationTokenSource.CreateLinkedTokenSource(_stopping.Token, task.Ended);
        CancellationToken token = linked.Token;
        using ModelBody body = ModelBody.Create(model, _options.Serializer, owner: null, _options.ChunkBytes, () => task.Payload!);
        await DataFrames.WriteResponseAsync(stream, new DataResponse(StatusCode.OK, "", body.Length, request.Offset), token).ConfigureAwait(false);
        int windowBytes = _options.DataChannel.WindowBytes;
        var window = new AckWindow(request.Offset, _time);
        Task acknowledgements = ReadAcknowledgementsAsync(stream, window, token);
        try
        {
            var writer = new ResumeWriteStream(stream, request.Offset, window, windowBytes, Math.Min(_options.ChunkBytes, windowBytes / 2), hash: !_options.Serializer.ChecksumsPayload, _payloads.CountSent);
            await body.WriteToAsync(writer, token).ConfigureAwait(false);
            await stream.WriteAsync(DataFrames.Checksum(writer.Checksum), token).ConfigureAwait(false);
            await stream.FlushAsync(token).ConfigureAwait(false);
            await window.WaitForAsync(body.Length, _options.MessageTimeout, token).ConfigureAwait(false);
        }
        finally
        {
            await linked.CancelAsync().ConfigureAwait(false);
            await acknowledgements.ConfigureAwait(false);
        }
    }

    private static async Task ReadAcknowledgementsAsync(Stream stream, AckWindow window, CancellationToken cancellationToken)
    {
        byte[] scratch = new byte[8];
        try
        {
            while (await DataFrames.ReadOffsetAsync(stream, scratch, cancellationToken).ConfigureAwait(false) is long offset)
            {
                window.Acknowledge(offset);
            }

            window.Fail(new EndOfStreamException("the client closed the connection"));
        }
        catch (Exception ex) when (ex is IOException or OperationCanceledException or ObjectDisposedException)
        {
            window.Fail(ex);
        }
    }

    /// <summary>
    /// Receives a task's result. The first connection claims the task and runs the deserializer over a
    /// <see cref="ResumableUpload"/>; a later connection for the same task (after a cut) is handed to that upload, which
    /// tells it where to resume.
    /// </summary>
    private async Task ReceiveAsync(Stream stream, DataRequest request, string? identity, string peer)
    {
        ResultHeader header;
        try
        {
            header = ResultHeader.Parser.ParseFrom(request.Header);
        }
        catch (InvalidProtocolBufferException ex)
        {
            throw _guard.Refuse(peer, "DataUpload", StatusCode.InvalidArgument, "Malformed result header: " + ex.Message);
        }

        if (header.TaskId != request.TaskId)
        {
            throw _guard.Refuse(peer, "DataUpload", StatusCode.InvalidArgument, $"The header is for task '{header.TaskId}', the request for '{request.TaskId}'.");
        }

        if (_sessions.TryGetTask(header.TaskId, out PendingTask? pending) && pending.DataUpload is { } existing)
        {
            if (identity is not null && identity != pending.Session.ClientId)
            {
                throw _guard.Refuse(peer, "DataUpload", StatusCode.PermissionDenied, $"Task '{header.TaskId}' belongs to another client.");
            }

            GrpcLog.TransferResuming(_logger, "upload", header.TaskId, existing.Received, UploadReceiver.BodyBytes(pending, header));
            Task attached = existing.AttachAsync(stream);
            if (attached.IsFaulted)
            {
                throw _guard.Refuse(peer, "DataUpload", StatusCode.FailedPrecondition, $"The upload of task '{header.TaskId}' is over; the result is discarded.");
            }

            await attached.WaitAsync(_stopping.Token).ConfigureAwait(false);
            return;
        }

        PendingTask task = _uploads.Claim(header, identity, peer, "DataUpload");
        using var upload = new ResumableUpload(UploadReceiver.BodyBytes(task, header), _options.DataChannel.WindowBytes, _options.MessageTimeout, _time, verify: !_options.Uplink.ChecksumsPayload);
        task.DataUpload = upload;
        Task released = upload.AttachAsync(stream);
        using var ended = CancellationTokenSource.CreateLinkedTokenSource(_stopping.Token);
        _ = task.Completion.Task.ContinueWith(
            static (_, state) => CancelQuietly((CancellationTokenSource)state!), ended, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        (StatusCode status, string message) = (StatusCode.OK, "");
        try
        {
            await _uploads.ReceiveAsync(task, header, upload, peer, "DataUpload", ended.Token).ConfigureAwait(false);
        }
        catch (RpcException ex)
        {
            (status, message) = (ex.StatusCode, ex.Status.Detail);
        }
        catch (OperationCanceledException)
        {
            (status, message) = (StatusCode.Cancelled, "The task ended (deadline, cancellation or shutdown) before its upload completed.");
        }

        using var deadline = new CancellationTokenSource(_options.MessageTimeout, _time);
        using var finish = CancellationTokenSource.CreateLinkedTokenSource(_stopping.Token, deadline.Token);
        await upload.FinishAsync(status, message, finish.Token).ConfigureAwait(false);
        await released.ConfigureAwait(false);
    }

    private static void CancelQuietly(CancellationTokenSource source)
    {
        try
        {
            source.Cancel();
        }
        catch (ObjectDisposedException)
        {
        }
    }
}
