using FederatedSharp.Clients;
using FederatedSharp.Parameters;

namespace FederatedSharp.Server;

/// <summary>Evaluates the global model on the server's own data after each round (Flower's <c>evaluate_fn</c>).</summary>
/// <param name="round">The round just finished.</param>
/// <param name="parameters">The global parameters (read-only, valid until the task completes).</param>
/// <param name="cancellationToken">Cancels the evaluation.</param>
/// <returns>The loss and metrics.</returns>
public delegate Task<EvaluateResult> CentralizedEvaluator(int round, ModelParameters parameters, CancellationToken cancellationToken);
