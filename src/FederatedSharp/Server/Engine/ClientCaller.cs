using System.Diagnostics;
using FederatedSharp.Clients;
using FederatedSharp.Diagnostics;
using FederatedSharp.Transport;
using Microsoft.Extensions.Logging;

namespace FederatedSharp.Server.Engine;

/// <summary>
/// The one path for every client task of every round driver: it reaches the client through the transport, enforces
/// the deadline on the injected clock, honours the round's cancellation, retries transient failures
/// (<see cref="FederatedServerOptions.ClientRetries"/>), disposes results that arrive too late, and turns every failure
/// into a <see cref="ClientFailure"/> that is logged and counted.
/// </summary>
internal sealed class ClientCaller
{
    private readonly ITransport _transport;
    private readonly TimeProvider _timeProvider;
    private readonly ILogger _logger;
    private readonly int _retries;

    public ClientCaller(ITransport transport, TimeProvider timeProvider, ILogger logger, int retries)
    {
        _transport = transport;
        _timeProvider = timeProvider;
        _logger = logger;
        _retries = retries;
    }

    /// <summary>Runs <paramref name="call"/> on client <paramref name="clientId"/>; never throws except for the federation's own cancellation.</summary>
    public async Task<ClientOutcome<T>> CallAsync<T>(
        string clientId, RoundPhase phase, int round, TimeSpan timeout, Func<IClientConnection, CancellationToken, Task<T>> call, CancellationToken roundToken)
    {
        for (int attempt = 0; ; attempt++)
        {
            ClientOutcome<T> outcome = await TracedCallAsync(clientId, phase, round, attempt, timeout, call, roundToken).ConfigureAwait(false);
            if (outcome.Failure is not { Kind: ClientFailureKind.Exception } || attempt >= _retries || roundToken.IsCancellationRequested)
            {
                return outcome;
            }

            Log.ClientCallRetried(_logger, round, phase.ToString(), clientId, attempt + 1, outcome.Failure.Reason);
        }
    }

    /// <summary>Records a failure: kept in the round's list, logged and counted.</summary>
    public void Record(List<ClientFailure> failures, int round, ClientFailure failure)
    {
        lock (failures)
        {
            failures.Add(failure);
        }

        Instruments.ClientFailures.Add(1, new KeyValuePair<string, object?>("federatedsharp.failure.kind", failure.Kind.ToString()));
        Log.ClientFailed(_logger, round, failure.Phase.ToString(), failure.ClientId, failure.Kind.ToString(), failure.Reason);
    }

    /// <summary>Disposes the results of calls nobody will consume once they complete.</summary>
    public static void DisposeWhenCompleted<T>(IEnumerable<Task<ClientOutcome<T>>> calls)
    {
        foreach (Task<ClientOutcome<T>> call in calls)
        {
            call.ContinueWith(
                t =>
                {
                    if (t.IsCompletedSuccessfully)
                    {
                        (t.Result.Result as IDisposable)?.Dispose();
                    }
                },
                CancellationToken.None,
                TaskContinuationOptions.ExecuteSynchronously,
                TaskScheduler.Default);
        }
    }

    /// <summary>One attempt in its own <c>federatedsharp.client.call</c> span (a child of the round's), timed on the injected clock.</summary>
    private async Task<ClientOutcome<T>> TracedCallAsync<T>(
        string clientId, RoundPhase phase, int round, int attempt, TimeSpan timeout, Func<IClientConnection, CancellationToken, Task<T>> call, CancellationToken roundToken)
    {
        string phaseName = PhaseName(phase);
        using Activity? activity = Instruments.ActivitySource.StartActivity("federatedsharp.client.call", ActivityKind.Client);
        activity?.SetTag(Instruments.ClientIdTag, clientId);
        activity?.SetTag(Instruments.PhaseTag, phaseName);
        activity?.SetTag(Instruments.RoundTag, round);
        if (attempt > 0)
        {
            activity?.SetTag("federatedsharp.attempt", attempt + 1);
        }

        long started = _timeProvider.GetTimestamp();
        ClientOutcome<T> outcome = await CallOnceAsync(clientId, phase, round, timeout, call, roundToken).ConfigureAwait(false);
        string outcomeName = outcome.Failure is null ? "ok" : outcome.Failure.Kind.ToString().ToLowerInvariant();
        Instruments.ClientCallDuration.Record(
            _timeProvider.GetElapsedTime(started).TotalSeconds,
            new KeyValuePair<string, object?>(Instruments.PhaseTag, phaseName),
            new KeyValuePair<string, object?>(Instruments.OutcomeTag, outcomeName));
        if (activity is not null)
        {
            activity.SetTag(Instruments.OutcomeTag, outcomeName);
            if (outcome.Failure is { } failure)
            {
                activity.SetStatus(ActivityStatusCode.Error, failure.Reason);
            }
        }

        return outcome;
    }

    private static string PhaseName(RoundPhase phase) => phase switch
    {
        RoundPhase.Fit => "fit",
        RoundPhase.Evaluate => "evaluate",
        RoundPhase.Query => "query",
        _ => phase.ToString(),
    };

    private async Task<ClientOutcome<T>> CallOnceAsync<T>(
        string clientId, RoundPhase phase, int round, TimeSpan timeout, Func<IClientConnection, CancellationToken, Task<T>> call, CancellationToken roundToken)
    {
        using var deadline = new CancellationTokenSource(timeout, _timeProvider);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(roundToken, deadline.Token);
        Task<T>? pending = null;
        try
        {
            IClientConnection connection = _transport.GetConnection(clientId);
            pending = call(connection, linked.Token);
            T result = await pending.WaitAsync(timeout, _timeProvider, roundToken).ConfigureAwait(false);
            return new ClientOutcome<T>(clientId, result, null);
        }
        catch (UnknownClientException ex)
        {
            return new ClientOutcome<T>(clientId, default, new ClientFailure(clientId, phase, ClientFailureKind.UnknownClient, ex.Message));
        }
        catch (Exception ex) when (ex is TimeoutException || (ex is OperationCanceledException && deadline.IsCancellationRequested && !roundToken.IsCancellationRequested))
        {
            DisposeWhenDone(pending, clientId, phase, round);
            return new ClientOutcome<T>(clientId, default, new ClientFailure(clientId, phase, ClientFailureKind.Timeout, $"no answer within {timeout}."));
        }
        catch (OperationCanceledException) when (roundToken.IsCancellationRequested)
        {
            DisposeWhenDone(pending, clientId, phase, round);
            return new ClientOutcome<T>(clientId, default, new ClientFailure(clientId, phase, ClientFailureKind.Timeout, "the round closed before the client answered."));
        }
        catch (UnsupportedTaskException ex)
        {
            return new ClientOutcome<T>(clientId, default, new ClientFailure(clientId, phase, ClientFailureKind.Unsupported, ex.Message));
        }
        catch (Exception ex)
        {
            if (ex is ClientFailedException { InnerException: UnsupportedTaskException unsupported })
            {
                return new ClientOutcome<T>(clientId, default, new ClientFailure(clientId, phase, ClientFailureKind.Unsupported, unsupported.Message));
            }

            string message = ex is ClientFailedException ? ex.Message : $"{ex.GetType().Name}: {ex.Message}";
            return new ClientOutcome<T>(clientId, default, new ClientFailure(clientId, phase, ClientFailureKind.Exception, message));
        }
    }

    private void DisposeWhenDone<T>(Task<T>? pending, string clientId, RoundPhase phase, int round)
    {
        pending?.ContinueWith(
            t =>
            {
                if (t.IsCompletedSuccessfully)
                {
                    Log.LateResultDiscarded(_logger, round, phase.ToString(), clientId);
                    (t.Result as IDisposable)?.Dispose();
                }
            },
            CancellationToken.None,
            TaskContinuationOptions.ExecuteSynchronously,
            TaskScheduler.Default);
    }
}

/// <summary>What one client task produced: a result or a failure.</summary>
internal sealed record ClientOutcome<T>(string ClientId, T? Result, ClientFailure? Failure);
