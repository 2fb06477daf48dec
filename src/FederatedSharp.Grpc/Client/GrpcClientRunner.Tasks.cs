using System.Diagnostics;
using FederatedSharp.Clients;
using FederatedSharp.Grpc.Diagnostics;
using FederatedSharp.Grpc.Protocol;
using FederatedSharp.Grpc.Streaming;
using FederatedSharp.Parameters;
using Google.Protobuf;
using Grpc.Core;
using Microsoft.Extensions.Logging;

namespace FederatedSharp.Grpc.Client;

/// <summary>Running one task of the server's on the local client: download, fit / evaluate / query, upload, or report the error.</summary>
public sealed partial class GrpcClientRunner
{
    private async Task RunTaskAsync(
        IModelTransfer transfer,
        IClient client,
        TaskInstruction task,
        int chunkBytes,
        CancellationToken cancellationToken)
    {
        using Activity? activity = GrpcInstruments.StartClientTask(KindName(task.Kind), task.Traceparent, task.Tracestate, _options.ClientId, task.Round);
        try
        {
            ConfigRecord config = ConfigConverter.FromWire(task.Config);
            ResultHeader header = new() { TaskId = task.TaskId };
            ModelBody? upload = null;
            switch (task.Kind)
            {
                case TaskKind.Fit:
                    upload = await FitAsync(transfer, client, task, config, header, chunkBytes, cancellationToken).ConfigureAwait(false);
                    break;

                case TaskKind.Evaluate:
                {
                    using ModelParameters global = await DownloadAsync(transfer, task, cancellationToken).ConfigureAwait(false);
                    EvaluateResult result = await client.EvaluateAsync(new EvaluateInstructions(task.Round, global, config) { State = State }, cancellationToken).ConfigureAwait(false);
                    header.ExampleCount = result.ExampleCount;
                    header.Loss = result.Loss;
                    header.Metrics = ConfigConverter.ToWire(result.Metrics);
                    break;
                }

                case TaskKind.GetProperties:
                    header.Properties = ConfigConverter.ToWire(await client.GetPropertiesAsync(cancellationToken).ConfigureAwait(false));
                    break;
                case TaskKind.Query:
                    upload = await QueryAsync(transfer, client, task, config, header, chunkBytes, cancellationToken).ConfigureAwait(false);
                    break;
                default:
                    throw new InvalidDataException($"Unknown task kind {task.Kind}.");
            }

            try
            {
                await transfer.UploadAsync(header, upload, cancellationToken).ConfigureAwait(false);
                Interlocked.Increment(ref _completedTasks);
                activity?.SetTag("federatedsharp.outcome", "ok");
            }
            catch (RpcException ex) when (ex.StatusCode is StatusCode.FailedPrecondition or StatusCode.NotFound or StatusCode.AlreadyExists or StatusCode.InvalidArgument)
            {
                GrpcLog.ResultDiscardedByServer(_logger, task.TaskId, ex.Status.Detail);
                activity?.SetTag("federatedsharp.outcome", "discarded");
            }
            finally
            {
                upload?.Dispose();
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Cancelled by the server or the session ended: the server has already written this task off.
            activity?.SetTag("federatedsharp.outcome", "cancelled");
        }
        catch (RpcException) when (cancellationToken.IsCancellationRequested)
        {
        }
        catch (UnsupportedTaskException ex)
        {
            GrpcLog.TaskFailed(_logger, task.TaskId, task.Kind.ToString(), task.Round, ex.Message);
            activity?.SetTag("federatedsharp.outcome", "unsupported");
            await ReportErrorAsync(task.TaskId, ex.Message, cancellationToken, unsupported: true).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            GrpcLog.TaskFailed(_logger, task.TaskId, task.Kind.ToString(), task.Round, ex.Message);
            activity?.SetTag("federatedsharp.outcome", "exception");
            activity?.SetStatus(ActivityStatusCode.Error, ex.Message);
            await ReportErrorAsync(task.TaskId, $"{ex.GetType().Name}: {ex.Message}", cancellationToken).ConfigureAwait(false);
        }
    }

    private static string KindName(TaskKind kind) => kind switch
    {
        TaskKind.Fit => "fit",
        TaskKind.Evaluate => "evaluate",
        TaskKind.Query => "query",
        TaskKind.GetProperties => "properties",
        _ => "unknown",
    };

    private Task<ModelParameters> DownloadAsync(IModelTransfer transfer, TaskInstruction task, CancellationToken cancellationToken)
    {
        if (task.ModelBytes <= 0 || task.ModelBytes > _options.MaxModelBytes)
        {
            throw new InvalidDataException($"The server announced a model of {task.ModelBytes} bytes, outside 1..{_options.MaxModelBytes} (MaxModelBytes).");
        }

        return transfer.DownloadAsync(task, cancellationToken);
    }

    // On the session of the moment (a task may outlive the session it came on, when the server resumes tasks).
    private async Task ReportErrorAsync(string taskId, string message, CancellationToken cancellationToken, bool unsupported = false)
    {
        if (Volatile.Read(ref _link) is not (var session, var writeLock))
        {
            return; // no session now: the server fails the task when its resume grace runs out
        }

        try
        {
            await writeLock.WaitAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                await session.WriteAsync(new ClientMessage { TaskError = new TaskError { TaskId = taskId, Message = message, Unsupported = unsupported } }, cancellationToken).ConfigureAwait(false);
            }
            finally
            {
                writeLock.Release();
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or RpcException or IOException or InvalidOperationException or ObjectDisposedException)
        {
            // The session is gone; the server fails the task when it notices.
        }
    }

    // A fit: the global model down, training on the local client, the update up. The global model is freed once the
    // client is done with it (unless the update is the same object); the update lives until it is sent.
    private async Task<ModelBody> FitAsync(
        IModelTransfer transfer, IClient client, TaskInstruction task, ConfigRecord config, ResultHeader header, int chunkBytes, CancellationToken cancellationToken)
    {
        ModelParameters global = await DownloadAsync(transfer, task, cancellationToken).ConfigureAwait(false);
        FitResult result;
        try
        {
            result = await client.FitAsync(new FitInstructions(task.Round, global, config) { State = State }, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            global.Dispose();
            throw;
        }

        if (!ReferenceEquals(global, result.Parameters))
        {
            global.Dispose();
        }

        header.ExampleCount = result.ExampleCount;
        header.Metrics = ConfigConverter.ToWire(result.Metrics);
        ModelBody body = ModelBody.Create(result.Parameters, _options.Uplink, new Owned(result, global), chunkBytes);
        header.ModelBytes = body.Length;
        return body;
    }

    // A query: the optional parameters down, the answer's values in the header, its optional parameters up.
    private async Task<ModelBody?> QueryAsync(
        IModelTransfer transfer, IClient client, TaskInstruction task, ConfigRecord config, ResultHeader header, int chunkBytes, CancellationToken cancellationToken)
    {
        ModelParameters? parameters = task.ModelBytes > 0 ? await DownloadAsync(transfer, task, cancellationToken).ConfigureAwait(false) : null;
        QueryResult result;
        try
        {
            result = await client.QueryAsync(new QueryInstructions(task.QueryName, config, parameters) { State = State }, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            parameters?.Dispose();
            throw;
        }

        header.Metrics = ConfigConverter.ToWire(result.Values);
        if (result.Parameters is null)
        {
            result.Dispose();
            parameters?.Dispose();
            return null;
        }

        ModelBody body = ModelBody.Create(result.Parameters, _options.Uplink, new Owned(result, parameters), chunkBytes);
        header.ModelBytes = body.Length;
        return body;
    }

    /// <summary>What an upload body keeps alive until it is sent: the result, and what it may share with the download.</summary>
    private sealed class Owned(IDisposable result, IDisposable? received) : IDisposable
    {
        public void Dispose()
        {
            result.Dispose();
            received?.Dispose();
        }
    }
}
