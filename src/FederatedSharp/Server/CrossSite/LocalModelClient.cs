using FederatedSharp.Clients;
using FederatedSharp.Parameters;

namespace FederatedSharp.Server;

/// <summary>
/// Wraps a client so that it keeps a copy of the parameters its last fit produced, its locally trained model, and
/// answers <see cref="CrossSiteQueries.LocalModel"/> with them (NVIDIA FLARE's cross-site validation submits the same
/// model). Everything else goes to the inner client. The copy lives as long as this object: wrap long-lived clients.
/// </summary>
public sealed class LocalModelClient : IClient, IDisposable
{
    private readonly IClient _inner;
    private readonly object _gate = new();
    private ModelParameters? _local;

    /// <summary>Wraps a client.</summary>
    /// <param name="inner">The site's client.</param>
    public LocalModelClient(IClient inner) => _inner = inner ?? throw new ArgumentNullException(nameof(inner));

    /// <summary>Whether a fit has produced a local model yet.</summary>
    public bool HasLocalModel
    {
        get
        {
            lock (_gate)
            {
                return _local is not null;
            }
        }
    }

    /// <inheritdoc />
    public Task<ConfigRecord> GetPropertiesAsync(CancellationToken cancellationToken = default) => _inner.GetPropertiesAsync(cancellationToken);

    /// <inheritdoc />
    public async Task<FitResult> FitAsync(FitInstructions instructions, CancellationToken cancellationToken = default)
    {
        FitResult result = await _inner.FitAsync(instructions, cancellationToken).ConfigureAwait(false);
        ModelParameters copy = result.Parameters.Clone();
        lock (_gate)
        {
            _local?.Dispose();
            _local = copy;
        }

        return result;
    }

    /// <inheritdoc />
    public Task<EvaluateResult> EvaluateAsync(EvaluateInstructions instructions, CancellationToken cancellationToken = default) => _inner.EvaluateAsync(instructions, cancellationToken);

    /// <inheritdoc />
    public Task<QueryResult> QueryAsync(QueryInstructions instructions, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(instructions);
        if (instructions.Name != CrossSiteQueries.LocalModel)
        {
            return _inner.QueryAsync(instructions, cancellationToken);
        }

        lock (_gate)
        {
            return _local is null
                ? Task.FromException<QueryResult>(new InvalidOperationException("This site has not trained a local model yet (no fit has run)."))
                : Task.FromResult(new QueryResult(ConfigRecord.Empty, _local.Clone()));
        }
    }

    /// <summary>Releases the kept model.</summary>
    public void Dispose()
    {
        lock (_gate)
        {
            _local?.Dispose();
            _local = null;
        }
    }
}
