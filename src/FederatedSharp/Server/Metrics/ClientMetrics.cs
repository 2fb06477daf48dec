using FederatedSharp.Clients;

namespace FederatedSharp.Server;

/// <summary>One client's accepted fit result in a round: who, on how many examples, and the metrics it reported.</summary>
/// <param name="ClientId">The client.</param>
/// <param name="ExampleCount">Its training examples.</param>
/// <param name="Metrics">Its training metrics.</param>
public sealed record ClientFitMetrics(string ClientId, long ExampleCount, ConfigRecord Metrics);

/// <summary>One client's accepted evaluation in a round.</summary>
/// <param name="ClientId">The client.</param>
/// <param name="ExampleCount">Its evaluation examples.</param>
/// <param name="Loss">Its loss.</param>
/// <param name="Metrics">Its evaluation metrics.</param>
public sealed record ClientEvaluateMetrics(string ClientId, long ExampleCount, double Loss, ConfigRecord Metrics);

/// <summary>One client's value of one metric, as a <see cref="MetricAggregator"/> sees it.</summary>
/// <param name="ClientId">The client.</param>
/// <param name="ExampleCount">Its examples (the weight of a weighted mean).</param>
/// <param name="Value">The metric's value.</param>
public readonly record struct MetricSample(string ClientId, long ExampleCount, double Value);

/// <summary>Combines the clients' values of one metric into the round's value.</summary>
/// <param name="samples">Every reporting client's value, in aggregation order; never empty.</param>
/// <returns>The round's value.</returns>
public delegate double MetricAggregator(IReadOnlyList<MetricSample> samples);

/// <summary>
/// Computes a round's metric from every client's whole evaluation result, for metrics that are not averages of local
/// values: the clients report sufficient statistics (for example a <see cref="BinaryScoreHistogram"/>) and the server
/// combines them (<see cref="MetricAggregators.Auc"/>).
/// </summary>
/// <param name="results">Every accepted evaluation of the round, in aggregation order; never empty.</param>
/// <returns>The round's value, or null when the clients' reports do not allow one.</returns>
public delegate double? ComputedMetric(IReadOnlyList<ClientEvaluateMetrics> results);
