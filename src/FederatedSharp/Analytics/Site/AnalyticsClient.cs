using FederatedSharp.Clients;

namespace FederatedSharp.Analytics;

/// <summary>
/// A client that answers analytics queries with its <see cref="AnalyticsSite"/> and hands every other task to an
/// optional inner client (the site's trainer), so one hospital can both answer questions and train.
/// </summary>
public sealed class AnalyticsClient : IClient
{
    private readonly IClient? _inner;

    /// <summary>Creates the client.</summary>
    /// <param name="site">The site's analytics.</param>
    /// <param name="inner">The client for fit, evaluate and other queries; null for an analytics-only site.</param>
    public AnalyticsClient(AnalyticsSite site, IClient? inner = null)
    {
        Site = site ?? throw new ArgumentNullException(nameof(site));
        _inner = inner;
    }

    /// <summary>The site's analytics.</summary>
    public AnalyticsSite Site { get; }

    /// <inheritdoc />
    public Task<ConfigRecord> GetPropertiesAsync(CancellationToken cancellationToken = default) =>
        _inner?.GetPropertiesAsync(cancellationToken) ?? Task.FromResult(ConfigRecord.Empty);

    /// <inheritdoc />
    public Task<FitResult> FitAsync(FitInstructions instructions, CancellationToken cancellationToken = default) =>
        _inner?.FitAsync(instructions, cancellationToken) ?? Task.FromException<FitResult>(new UnsupportedTaskException("fit", "This site answers analytics queries only."));

    /// <inheritdoc />
    public Task<EvaluateResult> EvaluateAsync(EvaluateInstructions instructions, CancellationToken cancellationToken = default) =>
        _inner?.EvaluateAsync(instructions, cancellationToken) ?? Task.FromException<EvaluateResult>(new UnsupportedTaskException("evaluate", "This site answers analytics queries only."));

    /// <inheritdoc />
    public Task<QueryResult> QueryAsync(QueryInstructions instructions, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(instructions);
        return AnalyticsSite.Answers(instructions.Name) ? Site.AnswerAsync(instructions, cancellationToken)
            : _inner is not null ? _inner.QueryAsync(instructions, cancellationToken)
            : Task.FromException<QueryResult>(new UnsupportedTaskException("query:" + instructions.Name));
    }
}
