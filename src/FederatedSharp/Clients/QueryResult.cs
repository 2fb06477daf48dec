using FederatedSharp.Parameters;

namespace FederatedSharp.Clients;

/// <summary>A client's answer to a query task. Owns its parameters, if any; disposing it disposes them.</summary>
public sealed class QueryResult : IDisposable
{
    /// <summary>Creates a result.</summary>
    /// <param name="values">The answer.</param>
    /// <param name="parameters">Parameters returned with the answer (ownership passes to the result); null for none.</param>
    /// <exception cref="ArgumentNullException"><paramref name="values"/> is null.</exception>
    public QueryResult(ConfigRecord values, ModelParameters? parameters = null)
    {
        Values = values ?? throw new ArgumentNullException(nameof(values));
        Parameters = parameters;
    }

    /// <summary>The answer.</summary>
    public ConfigRecord Values { get; }

    /// <summary>Parameters returned with the answer, or null.</summary>
    public ModelParameters? Parameters { get; }

    /// <summary>Disposes the parameters.</summary>
    public void Dispose() => Parameters?.Dispose();
}
