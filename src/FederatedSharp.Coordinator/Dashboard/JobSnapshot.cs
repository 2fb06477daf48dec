using System.Text.Json;
using FederatedSharp.Coordinator.Store;
using FederatedSharp.Plans;

namespace FederatedSharp.Coordinator.Dashboard;

/// <summary>Everything the coordinator holds about one job, as the dashboard shows it: rounds of every run merged by round number.</summary>
internal sealed record JobSnapshot(
    JobRecord Job, TrainingPlan? Plan, IReadOnlyList<RunRecord> Runs, IReadOnlyList<RoundRow> Rounds, IReadOnlyList<JobNodeRecord> Decisions)
{
    /// <summary>The rounds the job asks for (0 when its plan no longer parses).</summary>
    public int TotalRounds => Plan?.Federation.Rounds ?? 0;

    /// <summary>The highest round recorded.</summary>
    public int RoundsDone => Rounds.Count == 0 ? 0 : Rounds.Max(r => r.Round);

    public bool IsActive => Job.Status is JobStatus.Queued or JobStatus.Running;

    public static async Task<JobSnapshot?> LoadAsync(CoordinatorStore store, string id, CancellationToken cancellationToken)
    {
        JobRecord? job = await store.GetJobAsync(id, cancellationToken).ConfigureAwait(false);
        if (job is null)
        {
            return null;
        }

        IReadOnlyList<RunRecord> runs = await store.ListRunsAsync(id, cancellationToken).ConfigureAwait(false);
        var byRound = new SortedDictionary<int, RoundRow>();
        foreach (RunRecord run in runs)
        {
            // A resumed run repeats no round it restored, and a later run's round replaces an earlier one's.
            foreach (RoundRow round in await store.ListRoundsAsync(run.Id, cancellationToken).ConfigureAwait(false))
            {
                byRound[round.Round] = round;
            }
        }

        TrainingPlan? plan;
        try
        {
            plan = TrainingPlan.Parse(job.PlanJson);
        }
        catch (PlanValidationException)
        {
            plan = null;
        }

        return new JobSnapshot(job, plan, runs, byRound.Values.ToArray(), await store.ListNodeDecisionsAsync(id, cancellationToken).ConfigureAwait(false));
    }

    /// <summary>Every metric name the rounds recorded, loss first.</summary>
    public IReadOnlyList<string> MetricNames() =>
        Rounds.SelectMany(r => Numbers(r.MetricsJson).Keys).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToArray();

    /// <summary>A metric by round (<c>loss</c> is the federated evaluation loss).</summary>
    public IReadOnlyList<(int Round, double Value)> Series(string metric) =>
        Rounds.Select(r => (r.Round, metric == "loss" ? r.Loss : Numbers(r.MetricsJson).GetValueOrDefault(metric)))
            .Where(p => p.Item2 is not null).Select(p => (p.Round, p.Item2!.Value)).ToArray();

    /// <summary>Whether the job's plan uses differential privacy (DP-SGD at the sites or central DP).</summary>
    public bool HasDp => Plan is not null && (Plan.Privacy.DpSgd is not null || Plan.Privacy.CentralDp is not null);

    /// <summary>The job's epsilon so far: central DP's, else the worst site's under DP-SGD; null before any is reported.</summary>
    public double? EpsilonSpent()
    {
        IReadOnlyDictionary<string, double> sites = SiteEpsilons();
        return CentralEpsilon() ?? (sites.Count == 0 ? null : sites.Values.Max());
    }

    /// <summary>The epsilon spent so far under central DP (the aggregator's accountant), or null.</summary>
    public double? CentralEpsilon() =>
        Rounds.Select(r => Numbers(r.AggregatorMetricsJson).GetValueOrDefault("dp_epsilon")).LastOrDefault(e => e is not null);

    /// <summary>Each node's epsilon spent so far under DP-SGD (its own accountant, reported with its updates).</summary>
    public IReadOnlyDictionary<string, double> SiteEpsilons()
    {
        var spent = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (RoundRow round in Rounds)
        {
            foreach ((string node, Dictionary<string, double?> metrics) in Clients(round.ClientMetricsJson))
            {
                if (metrics.GetValueOrDefault("dpsgd_epsilon") is double e)
                {
                    spent[node] = e;
                }
            }
        }

        return spent;
    }

    /// <summary>The rounds each node's update was aggregated in, and its failures with reasons.</summary>
    public IReadOnlyDictionary<string, (int Rounds, IReadOnlyList<(int Round, string Reason)> Failures)> Contributions()
    {
        var nodes = Decisions.Where(d => d.Decision == NodeDecision.Accepted).Select(d => d.Node)
            .Concat(Rounds.SelectMany(r => r.Participants)).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal);
        var failures = Rounds.SelectMany(r => Failures(r.FailuresJson).Select(f => (r.Round, f.Node, f.Reason))).ToArray();
        return nodes.ToDictionary(n => n, n => (Rounds.Count(r => r.Participants.Contains(n)),
            (IReadOnlyList<(int, string)>)failures.Where(f => f.Node == n).Select(f => (f.Round, f.Reason)).ToArray()), StringComparer.Ordinal);
    }

    public static IReadOnlyList<(string Node, string Reason)> Failures(string json) =>
        JsonSerializer.Deserialize<List<Dictionary<string, string?>>>(json)?.Select(f => (f.GetValueOrDefault("node") ?? "?", f.GetValueOrDefault("reason") ?? "")).ToArray() ?? [];

    private static Dictionary<string, double?> Numbers(string json) => JsonSerializer.Deserialize<Dictionary<string, double?>>(json) ?? [];

    private static Dictionary<string, Dictionary<string, double?>> Clients(string json) => JsonSerializer.Deserialize<Dictionary<string, Dictionary<string, double?>>>(json) ?? [];
}
