using FederatedSharp.Clients;
using FederatedSharp.Grpc.Diagnostics;
using FederatedSharp.Grpc.Protocol;
using FederatedSharp.Grpc.Streaming;
using FederatedSharp.Parameters;
using FederatedSharp.Serialization;
using FederatedSharp.Transport;
using Grpc.Core;
using Microsoft.Extensions.Logging;

namespace FederatedSharp.Grpc.Server;

/// <summary>
/// The upload call: reads a result header, checks the task is pending and belongs to the caller, deserializes a fit's
/// model straight from the incoming chunks (sizes checked before allocating), and completes the task once. At most
/// <see cref="GrpcFederationOptions.MaxConcurrentUploads"/> received updates exist at once: a slot is held until the
/// server disposes the update.
/// </summary>
internal sealed class UploadReceiver(GrpcFederationOptions options, ILogger logger, SessionRegistry sessions, GrpcCallGuard guard, TimeProvider time)
{
    private readonly SemaphoreSlim _uploads = new(options.MaxConcurrentUploads, options.MaxConcurrentUploads);
    private long _bytesReceived;

    public long BytesReceived => Interlocked.Read(ref _bytesReceived);

    public async Task<UploadAck> UploadAsync(IAsyncStreamReader<UploadMessage> requests, ServerCallContext context)
    {
        string? identity = guard.Authenticate(context, "UploadResult");
        UploadMessage? first = await guard.ReadWithTimeoutAsync(requests, "result header", context).ConfigureAwait(false);
        if (first is null || first.KindCase != UploadMessage.KindOneofCase.Header)
        {
            throw guard.Refuse(context, "UploadResult", StatusCode.InvalidArgument, "An upload must start with a result header.");
        }

        ResultHeader header = first.Header;
        PendingTask task = Claim(header, identity, context.Peer, "UploadResult");
        var body = new ChunkReadStream(
            async ct => await requests.MoveNext(ct).ConfigureAwait(false)
                ? requests.Current.KindCase == UploadMessage.KindOneofCase.Chunk
                    ? requests.Current.Chunk.Memory
                    : throw new InvalidDataException($"Unexpected {requests.Current.KindCase} in the middle of an upload.")
                : (ReadOnlyMemory<byte>?)null,
            BodyBytes(task, header),
            options.MessageTimeout,
            "uploaded model",
            time);
        await ReceiveAsync(task, header, body, context.Peer, "UploadResult", context.CancellationToken).ConfigureAwait(false);
        return new UploadAck();
    }

    /// <summary>The bytes that follow a result header: the model of a fit or of a query that sends one; none otherwise.</summary>
    public static long BodyBytes(PendingTask task, ResultHeader header) => task.Kind is TaskKind.Fit or TaskKind.Query ? Math.Max(0, header.ModelBytes) : 0;

    /// <summary>Claims the task a result is for: it must be pending, the caller's, and not uploaded before.</summary>
    /// <exception cref="RpcException">The refusal (counted and logged).</exception>
    public PendingTask Claim(ResultHeader header, string? identity, string peer, string call)
    {
        if (!sessions.TryGetTask(header.TaskId, out PendingTask? task))
        {
            GrpcLog.StaleResultDiscarded(logger, header.TaskId, identity ?? "?");
            throw guard.Refuse(peer, call, StatusCode.FailedPrecondition,
                $"Task '{header.TaskId}' is not pending (late, cancelled or from an old round); the result is discarded.");
        }

        if (identity is not null && identity != task.Session.ClientId)
        {
            throw guard.Refuse(peer, call, StatusCode.PermissionDenied, $"Task '{header.TaskId}' belongs to another client.");
        }

        if (!task.TryBeginUpload())
        {
            throw guard.Refuse(peer, call, StatusCode.AlreadyExists, $"A result for task '{header.TaskId}' was already sent.");
        }

        return task;
    }

    /// <summary>
    /// Receives a claimed task's result from its header and body (gRPC chunks or a data-channel connection) and
    /// completes the task once; a malformed result fails the task with the reason and is refused.
    /// </summary>
    /// <exception cref="RpcException">The refusal (counted and logged).</exception>
    public async Task ReceiveAsync(PendingTask task, ResultHeader header, BoundedReadStream body, string peer, string call, CancellationToken cancellationToken)
    {
        string clientId = task.Session.ClientId;
        try
        {
            object result = task.Kind switch
            {
                TaskKind.Fit => await ReceiveFitAsync(task, header, body, cancellationToken).ConfigureAwait(false),
                TaskKind.Evaluate => ReceiveEvaluate(header),
                TaskKind.GetProperties => ConfigConverter.FromWire(header.Properties),
                TaskKind.Query => await ReceiveQueryAsync(task, header, body, cancellationToken).ConfigureAwait(false),
                _ => throw new InvalidDataException($"Unknown task kind {task.Kind}."),
            };
            bool headerOnly = task.Kind is TaskKind.Evaluate or TaskKind.GetProperties || (task.Kind == TaskKind.Query && header.ModelBytes == 0);
            if (headerOnly)
            {
                try
                {
                    await body.EnsureCompleteAsync(cancellationToken).ConfigureAwait(false);
                }
                catch (InvalidDataException)
                {
                    (result as IDisposable)?.Dispose();
                    throw new InvalidDataException("Only a header may be sent for evaluate, get-properties and parameter-less query results.");
                }
            }

            if (!task.Completion.TrySetResult(result))
            {
                (result as IDisposable)?.Dispose();
                GrpcLog.StaleResultDiscarded(logger, header.TaskId, clientId);
                throw guard.Refuse(peer, call, StatusCode.FailedPrecondition, $"Task '{header.TaskId}' ended (deadline or cancellation) before its result arrived; the result is discarded.");
            }
        }
        catch (Exception ex) when (ex is InvalidDataException or ModelFormatException or TimeoutException or ArgumentException or InvalidOperationException)
        {
            string reason = $"{(ex is ModelFormatException ? "malformed model" : "malformed result")}: {ex.Message}";
            GrpcLog.ResultRejected(logger, header.TaskId, clientId, reason);
            task.TryFail(new ClientFailedException(clientId, "sent a " + reason, ex));
            throw guard.Refuse(peer, call, ex is TimeoutException ? StatusCode.DeadlineExceeded : StatusCode.InvalidArgument, reason);
        }
        catch (RpcException ex)
        {
            // Refused by gRPC itself (message too large, stream reset) or by us above; either way the task is over.
            task.TryFail(new ClientFailedException(clientId, $"the upload failed: {ex.Status.StatusCode} {ex.Status.Detail}", ex));
            throw;
        }
        catch (Exception ex)
        {
            task.TryFail(new ClientFailedException(clientId, "the upload failed: " + ex.Message, ex));
            throw;
        }
    }

    private async Task<FitResult> ReceiveFitAsync(PendingTask task, ResultHeader header, BoundedReadStream body, CancellationToken cancellationToken)
    {
        if (header.ExampleCount < 0)
        {
            throw new InvalidDataException($"The example count {header.ExampleCount} is negative.");
        }

        if (header.ModelBytes <= 0 || header.ModelBytes > options.MaxModelBytes)
        {
            throw new InvalidDataException($"The announced model size {header.ModelBytes} bytes is outside 1..{options.MaxModelBytes} (MaxModelBytes).");
        }

        ConfigRecord metrics = ConfigConverter.FromWire(header.Metrics);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, task.Ended);
        await _uploads.WaitAsync(linked.Token).ConfigureAwait(false);
        bool handedOver = false;
        try
        {
            ModelParameters parameters = await body.ReadModelAsync(options.Uplink, header.ModelBytes, linked.Token).ConfigureAwait(false);

            Interlocked.Add(ref _bytesReceived, body.Received);
            GrpcInstruments.BytesReceived.Add(body.Received, GrpcInstruments.Server);
            var result = new FitResult(parameters, header.ExampleCount, metrics);
            result.AttachLease(() => _uploads.Release());
            handedOver = true;
            return result;
        }
        finally
        {
            if (!handedOver)
            {
                _uploads.Release();
            }
        }
    }

    // A query's answer: its values, and its parameters when it sent any (copied off the upload slot at once).
    private async Task<QueryResult> ReceiveQueryAsync(PendingTask task, ResultHeader header, BoundedReadStream body, CancellationToken cancellationToken)
    {
        ConfigRecord values = ConfigConverter.FromWire(header.Metrics);
        if (header.ModelBytes == 0)
        {
            return new QueryResult(values);
        }

        using FitResult received = await ReceiveFitAsync(task, header, body, cancellationToken).ConfigureAwait(false);
        return new QueryResult(values, received.Parameters.Clone());
    }

    private static EvaluateResult ReceiveEvaluate(ResultHeader header)
    {
        if (header.ExampleCount < 0)
        {
            throw new InvalidDataException($"The example count {header.ExampleCount} is negative.");
        }

        return new EvaluateResult(header.Loss, header.ExampleCount, ConfigConverter.FromWire(header.Metrics));
    }
}
