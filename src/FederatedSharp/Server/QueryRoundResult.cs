using FederatedSharp.Clients;

namespace FederatedSharp.Server;

/// <summary>One client's answer to a query task.</summary>
/// <param name="ClientId">The client.</param>
/// <param name="Result">Its answer (owned by the enclosing <see cref="QueryRoundResult"/>).</param>
public sealed record ClientQueryResult(string ClientId, QueryResult Result);

/// <summary>What a query task (<see cref="FederatedServer.QueryAsync"/>) brought back: the answers and the failures.</summary>
public sealed class QueryRoundResult : IDisposable
{
    internal QueryRoundResult(IReadOnlyList<ClientQueryResult> results, IReadOnlyList<ClientFailure> failures)
    {
        Results = results;
        Failures = failures;
    }

    /// <summary>The clients that answered, in the order they were asked.</summary>
    public IReadOnlyList<ClientQueryResult> Results { get; }

    /// <summary>The clients that did not answer and why (including <see cref="ClientFailureKind.Unsupported"/>).</summary>
    public IReadOnlyList<ClientFailure> Failures { get; }

    /// <summary>Disposes every answer's parameters.</summary>
    public void Dispose()
    {
        foreach (ClientQueryResult result in Results)
        {
            result.Result.Dispose();
        }
    }
}
