using FederatedSharp.Clients;
using FederatedSharp.Server;

namespace FederatedSharp.Analytics;

/// <summary>
/// Federated survival analysis: Kaplan–Meier curves per site and pooled, and the log-rank test between groups, from the
/// sites' event and censoring counts over time (never patient records). With exact event times and no suppression the
/// pooled results equal those of the pooled data; with time bins they equal the pooled analysis of times rounded down
/// to their bin. Each site answers with an <see cref="AnalyticsSite"/> under its own <see cref="DisclosurePolicy"/>.
/// </summary>
public sealed class FederatedSurvival
{
    private readonly FederatedServer _server;

    /// <summary>Creates the analysis over the server's clients.</summary>
    /// <param name="server">The server whose query tasks reach the sites.</param>
    public FederatedSurvival(FederatedServer server) => _server = server ?? throw new ArgumentNullException(nameof(server));

    /// <summary>Asks every site for its survival table (one query) and computes the curves and the log-rank test.</summary>
    /// <param name="request">The columns, the time bins and the groups.</param>
    /// <param name="sites">The client ids to ask; null for every connected client.</param>
    /// <param name="cancellationToken">Cancels the query.</param>
    /// <returns>The per-site and pooled curves, the log-rank test, and the sites that failed.</returns>
    /// <exception cref="ArgumentException">The request is invalid.</exception>
    public async Task<SurvivalReport> AnalyseAsync(SurvivalRequest request, IReadOnlyList<string>? sites = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        request.Validate();
        var query = new SurvivalQuery
        {
            Time = request.TimeColumn,
            Event = request.EventColumn,
            GroupBy = request.GroupColumn,
            Groups = request.Groups.Count > 0 ? request.Groups.Select(g => g.Value).ToArray() : null,
            Edges = request.TimeBins,
        };
        using QueryRoundResult result = await _server.QueryAsync(AnalyticsQueries.Survival, Payload.Write(query, AnalyticsJson.Default.SurvivalQuery), sites, null, cancellationToken).ConfigureAwait(false);
        var failures = result.Failures.ToList();
        int groups = Math.Max(1, request.Groups.Count);
        var replies = new SortedDictionary<string, SurvivalReply>(
            Payload.ReadAnswers(result, AnalyticsJson.Default.SurvivalReply, "survival reply", (reply, site) =>
            {
                if (reply.Groups.Count != groups || reply.Groups.Any(g => g.Times.Length != g.Events.Length || g.Times.Length != g.Censored.Length))
                {
                    throw new FormatException($"Site '{site}' replied with {reply.Groups.Count} groups for {groups}, or with rows of unequal length.");
                }
            }, failures),
            StringComparer.Ordinal);

        string[] labels = request.Groups.Count > 0 ? request.Groups.Select(g => g.Label).ToArray() : new[] { "all" };
        var perSite = new SortedDictionary<string, IReadOnlyList<KaplanMeierCurve>>(StringComparer.Ordinal);
        foreach ((string site, SurvivalReply reply) in replies)
        {
            perSite[site] = reply.Groups.Select((g, i) => Curve(labels[i], new[] { (site, g) }, RiskTable.Grid(new[] { g }))).ToArray();
        }

        double[] grid = RiskTable.Grid(replies.Values.SelectMany(r => r.Groups));
        var pooled = new List<KaplanMeierCurve>();
        var tables = new List<RiskTable>();
        for (int i = 0; i < groups; i++)
        {
            var members = replies.Select(r => (r.Key, r.Value.Groups[i])).ToList();
            pooled.Add(Curve(labels[i], members, RiskTable.Grid(members.Select(m => m.Item2))));
            tables.Add(RiskTable.Merge(members.Select(m => m.Item2).ToList(), grid));
        }

        LogRankResult? logRank = groups >= 2 && replies.Count > 0 ? RiskTable.LogRank(labels, tables) : null;
        return new SurvivalReport(perSite, pooled, logRank, failures);
    }

    private static KaplanMeierCurve Curve(string label, IReadOnlyList<(string Site, SurvivalGroupReply Reply)> members, double[] grid)
    {
        RiskTable table = RiskTable.Merge(members.Select(m => m.Reply).ToList(), grid);
        string[] truncated = members.Where(m => m.Reply.WithheldFrom is not null || m.Reply.Count is null).Select(m => m.Site).ToArray();
        return table.KaplanMeier(label, members.Sum(m => m.Reply.Count ?? 0), truncated);
    }
}
