namespace FederatedSharp.Server;

/// <summary>The record of every round of a federation, in order.</summary>
public sealed class History
{
    private readonly List<RoundRecord> _rounds = new();

    /// <summary>The rounds, in order.</summary>
    public IReadOnlyList<RoundRecord> Rounds => _rounds;

    /// <summary>The number of rounds that did not produce a new model.</summary>
    public int FailedRounds => _rounds.Count(r => !r.Succeeded);

    /// <summary>The values of a distributed (federated evaluation) metric per round; rounds without it are skipped.</summary>
    /// <param name="key">The metric name, for example <c>accuracy</c>.</param>
    /// <returns>(round, value) pairs.</returns>
    public IReadOnlyList<(int Round, double Value)> GetDistributedMetric(string key) =>
        _rounds.Where(r => r.DistributedMetrics.ContainsKey(key)).Select(r => (r.Round, r.DistributedMetrics[key].AsDouble())).ToList();

    /// <summary>The values of a centralized metric per round; rounds without it are skipped.</summary>
    /// <param name="key">The metric name.</param>
    /// <returns>(round, value) pairs.</returns>
    public IReadOnlyList<(int Round, double Value)> GetCentralizedMetric(string key) =>
        _rounds.Where(r => r.CentralizedMetrics.ContainsKey(key)).Select(r => (r.Round, r.CentralizedMetrics[key].AsDouble())).ToList();

    /// <summary>The cross-site evaluation of the final models (<see cref="CrossSiteEvaluation"/>), when one ran; not checkpointed.</summary>
    public CrossSiteMatrix? CrossSite { get; internal set; }

    internal void Add(RoundRecord record) => _rounds.Add(record);
}
