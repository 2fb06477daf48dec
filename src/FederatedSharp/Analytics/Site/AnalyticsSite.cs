using FederatedSharp.Clients;
using FederatedSharp.Diagnostics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace FederatedSharp.Analytics;

/// <summary>
/// A site's analytics: answers the statistics and survival queries (<see cref="AnalyticsQueries"/>) over its own
/// table, enforcing its <see cref="DisclosurePolicy"/> itself: small counts and cells are suppressed before the reply is
/// built, so a withheld value never leaves the site; noise and the privacy budget are applied and accounted here; and
/// every refusal and suppression goes into <see cref="Events"/> and the site's log. Put it behind a client with
/// <see cref="AnalyticsClient"/>.
/// </summary>
public sealed class AnalyticsSite
{
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly List<DisclosureEvent> _events = new();
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly PrivacyBudget _budget;
    private readonly ReleasedResolutions _resolutions = new();
    private readonly Random _random;

    /// <summary>Creates a site.</summary>
    /// <param name="data">The site's table; it stays here.</param>
    /// <param name="policy">The site's policy (copied); null for the defaults (k = 10, no noise).</param>
    /// <param name="logger">Receives refusals (warning) and suppressions (information); null for none.</param>
    /// <param name="timeProvider">Stamps the disclosure log; null for the system clock.</param>
    /// <exception cref="ArgumentOutOfRangeException">The policy is invalid.</exception>
    public AnalyticsSite(TabularDataset data, DisclosurePolicy? policy = null, ILogger<AnalyticsSite>? logger = null, TimeProvider? timeProvider = null)
    {
        Data = data ?? throw new ArgumentNullException(nameof(data));
        Policy = (policy ?? new DisclosurePolicy()).Copy();
        Policy.Validate();
        _logger = (ILogger?)logger ?? NullLogger.Instance;
        _time = timeProvider ?? TimeProvider.System;
        _budget = new PrivacyBudget(Policy.EpsilonBudget, Policy.DeltaBudget);
        _random = NoiseSource.CreateRandom(Policy);
    }

    /// <summary>The site's table.</summary>
    public TabularDataset Data { get; }

    /// <summary>The policy in force (a copy of the one given; changing it has no effect).</summary>
    public DisclosurePolicy Policy { get; }

    /// <summary>The epsilon spent so far by noisy queries.</summary>
    public double EpsilonSpent => _budget.EpsilonSpent;

    /// <summary>The delta spent so far by noisy queries.</summary>
    public double DeltaSpent => _budget.DeltaSpent;

    /// <summary>Every refusal and suppression so far, oldest first (a snapshot).</summary>
    public IReadOnlyList<DisclosureEvent> Events
    {
        get
        {
            lock (_events)
            {
                return _events.ToArray();
            }
        }
    }

    /// <summary>Whether this site answers a query of that name.</summary>
    /// <param name="queryName">The query's name.</param>
    /// <returns>True for the names in <see cref="AnalyticsQueries"/>.</returns>
    public static bool Answers(string queryName) => queryName is AnalyticsQueries.Statistics or AnalyticsQueries.Survival;

    /// <summary>Answers an analytics query under the policy. Queries are answered one at a time.</summary>
    /// <param name="instructions">The query.</param>
    /// <param name="cancellationToken">Cancels waiting for an earlier query.</param>
    /// <returns>The reply, with every withheld value absent.</returns>
    /// <exception cref="QueryRefusedException">The policy refuses the query (logged).</exception>
    /// <exception cref="FormatException">The query is malformed or names an unknown column (logged as a refusal).</exception>
    /// <exception cref="UnsupportedTaskException">The query is not an analytics query.</exception>
    public async Task<QueryResult> AnswerAsync(QueryInstructions instructions, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(instructions);
        if (!Answers(instructions.Name))
        {
            throw new UnsupportedTaskException("query:" + instructions.Name);
        }

        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var context = new SiteContext(Data, Policy, _budget, _resolutions, _random, (action, detail) => Record(instructions.Name, action, detail));
            return instructions.Name == AnalyticsQueries.Statistics
                ? new QueryResult(Payload.Write(SiteStatisticsResponder.Answer(context, Payload.Read(instructions.Config, AnalyticsJson.Default.StatisticsQuery, "statistics query")), AnalyticsJson.Default.StatisticsReply))
                : new QueryResult(Payload.Write(SiteSurvivalResponder.Answer(context, Payload.Read(instructions.Config, AnalyticsJson.Default.SurvivalQuery, "survival query")), AnalyticsJson.Default.SurvivalReply));
        }
        catch (Exception e) when (e is QueryRefusedException or FormatException or KeyNotFoundException)
        {
            Record(instructions.Name, DisclosureAction.Refused, "refused the query: " + e.Message);
            throw;
        }
        finally
        {
            _gate.Release();
        }
    }

    private void Record(string query, DisclosureAction action, string detail)
    {
        lock (_events)
        {
            _events.Add(new DisclosureEvent(_time.GetUtcNow(), query, action, detail));
        }

        if (action == DisclosureAction.Refused)
        {
            AnalyticsLog.Refused(_logger, query, detail);
        }
        else
        {
            AnalyticsLog.Suppressed(_logger, query, detail);
        }
    }
}
