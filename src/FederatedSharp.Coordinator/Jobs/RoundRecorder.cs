using System.Text.Json;
using FederatedSharp.Clients;
using FederatedSharp.Coordinator.Store;
using FederatedSharp.Server;

namespace FederatedSharp.Coordinator.Jobs;

/// <summary>
/// Writes each finished round to the store, in order: the evaluation loss and metrics, who took part and who failed
/// and why, the aggregator's figures (central DP's epsilon) and each node's numeric fit metrics (DP-SGD's epsilon).
/// </summary>
internal sealed class RoundRecorder(CoordinatorStore store, long run, TimeProvider time, Action<int> recorded) : IProgress<RoundReport>
{
    private Task _last = Task.CompletedTask;

    public void Report(RoundReport value)
    {
        RoundRecord r = value.Record;
        string failures = JsonSerializer.Serialize(r.Failures.Select(f => new { node = f.ClientId, reason = f.Reason }));
        var clients = r.FitResults.ToDictionary(c => c.ClientId, c => Numbers(c.Metrics), StringComparer.Ordinal);
        var row = new RoundRow(run, r.Round, r.Succeeded, r.DistributedLoss, JsonSerializer.Serialize(Numbers(r.DistributedMetrics)), r.FitClients, failures, r.Duration, time.GetUtcNow())
        {
            AggregatorMetricsJson = JsonSerializer.Serialize(Numbers(r.AggregatorMetrics)),
            ClientMetricsJson = JsonSerializer.Serialize(clients),
        };
        _last = _last.ContinueWith(_ => store.RecordRoundAsync(row), TaskScheduler.Default).Unwrap()
            .ContinueWith(t => { t.GetAwaiter().GetResult(); recorded(row.Round); }, TaskScheduler.Default);
    }

    public Task FlushAsync() => _last;

    // JSON has no infinity: a metric that is not finite (DP-SGD's epsilon without noise) is kept as null.
    private static Dictionary<string, double?> Numbers(ConfigRecord record) =>
        record.Where(m => m.Value.Kind is ConfigValueKind.Double or ConfigValueKind.Int64)
            .ToDictionary(m => m.Key, m => double.IsFinite(m.Value.AsDouble()) ? m.Value.AsDouble() : (double?)null, StringComparer.Ordinal);
}
