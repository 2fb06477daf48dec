using FederatedSharp.Aggregation;
using FederatedSharp.Clients;
using FederatedSharp.Diagnostics;
using FederatedSharp.Parameters;

namespace FederatedSharp.Server.Engine;

/// <summary>
/// Builds one round's chain of stage sinks ending in the strategy's <see cref="IRoundAggregator"/>, and counts what
/// went in and what was rejected along the way.
/// </summary>
internal sealed class UpdatePipeline : IDisposable
{
    private readonly List<IUpdateSink> _sinks = new();
    private readonly HashSet<string> _rejected = new(StringComparer.Ordinal);
    private readonly IUpdateSink _head;
    private readonly StrategySink _strategy;
    private readonly TimeProvider _time;
    private int _entered;

    public UpdatePipeline(IReadOnlyList<UpdateStage> stages, IAggregator aggregator, ModelParameters global, AggregationContext aggregation, TimeProvider time, Action<string, string> reject)
    {
        _time = time;

        // Each stage gets a context of its own, so a rejection is counted under the stage that made it.
        UpdateStageContext Context(string stage) => new(aggregation.Round, global, aggregation.SampledClients, aggregation.AvailableClients, aggregator, (id, reason) =>
        {
            lock (_rejected)
            {
                _rejected.Add(id);
            }

            Instruments.RejectedUpdates.Add(1, new KeyValuePair<string, object?>(Instruments.StageTag, stage));
            reject(id, reason);
        });
        UpdateStageContext context = Context("strategy");
        _strategy = new StrategySink(aggregator.BeginRound(global, aggregation), context);
        IUpdateSink next = _strategy;
        _sinks.Add(next);
        try
        {
            for (int i = stages.Count - 1; i >= 0; i--)
            {
                next = stages[i].BeginRound(Context(stages[i].Name), next);
                _sinks.Add(next);
            }
        }
        catch
        {
            Dispose();
            throw;
        }

        _head = next;
    }

    /// <summary>Updates that entered the pipeline and were not rejected by any stage (or by the strategy).</summary>
    public int Accepted
    {
        get
        {
            lock (_rejected)
            {
                return _entered - _rejected.Count;
            }
        }
    }

    /// <summary>Whether a stage or the strategy rejected this client's update.</summary>
    public bool WasRejected(string clientId)
    {
        lock (_rejected)
        {
            return _rejected.Contains(clientId);
        }
    }

    public void Add(IReadOnlyList<ClientUpdate> updates)
    {
        if (updates.Count == 0)
        {
            return;
        }

        Interlocked.Add(ref _entered, updates.Count);
        _head.Add(updates);
    }

    /// <summary>The round's final pass through every stage and the strategy, timed as <c>federatedsharp.server.aggregation.duration</c>.</summary>
    public ModelParameters Complete()
    {
        long started = _time.GetTimestamp();
        ModelParameters result = _head.Complete();
        Instruments.AggregationDuration.Record(_time.GetElapsedTime(started).TotalSeconds);
        return result;
    }

    /// <summary>The strategy's and every stage's metrics, merged (later stages' keys win on a clash).</summary>
    public ConfigRecord Metrics
    {
        get
        {
            var merged = new ConfigRecord();
            foreach (IUpdateSink sink in _sinks)
            {
                foreach ((string key, ConfigValue value) in sink.Metrics)
                {
                    merged[key] = value;
                }
            }

            return merged.Freeze();
        }
    }

    public void Dispose()
    {
        foreach (IUpdateSink sink in _sinks)
        {
            sink.Dispose();
        }
    }

    /// <summary>The end of the pipeline: the strategy's round accumulator, fed cache-blocked batches.</summary>
    private sealed class StrategySink(IRoundAggregator round, UpdateStageContext context) : IUpdateSink
    {
        public ConfigRecord Metrics => (round as IReportingRoundAggregator)?.GetRoundMetrics() ?? ConfigRecord.Empty;

        public void Add(IReadOnlyList<ClientUpdate> updates)
        {
            int before = round.Count;
            try
            {
                round.AddRange(updates);
            }
            catch (Exception ex) when (ex is LayoutMismatchException or ArgumentException)
            {
                // AddRange adds all, nothing, or a prefix: the rest go one by one, so only the bad ones are rejected.
                for (int i = round.Count - before; i < updates.Count; i++)
                {
                    try
                    {
                        round.Add(updates[i]);
                    }
                    catch (Exception inner) when (inner is LayoutMismatchException or ArgumentException)
                    {
                        context.Reject(updates[i].ClientId, inner.Message);
                    }
                }
            }
        }

        public ModelParameters Complete() => round.Complete();

        public void Dispose() => round.Dispose();
    }
}
