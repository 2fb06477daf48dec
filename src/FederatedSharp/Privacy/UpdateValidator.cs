using System.Numerics.Tensors;
using FederatedSharp.Aggregation;
using FederatedSharp.Aggregation.Kernels;
using FederatedSharp.Clients;
using FederatedSharp.Parameters;

namespace FederatedSharp.Privacy;

/// <summary>
/// Checks a client's fit result before it may reach an aggregator: same layout as the global model, a positive
/// example count, finite values and (optionally) an update norm bounded absolutely or relative to the median of recent
/// accepted updates, and a per-client rate limit. A rejected update is never aggregated. The relative bound and the
/// rate limit keep state: validate updates in a deterministic order (the server does) for reproducible decisions.
/// </summary>
internal sealed class UpdateValidator
{
    private readonly UpdateValidationOptions _options;
    private readonly Queue<double> _recentNorms = new();
    private readonly Dictionary<string, Queue<int>> _acceptedRounds = new(StringComparer.Ordinal);
    private readonly object _gate = new();

    /// <summary>Creates a validator.</summary>
    /// <param name="options">What to check; null for defaults.</param>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range.</exception>
    public UpdateValidator(UpdateValidationOptions? options = null)
    {
        _options = options ?? new UpdateValidationOptions();
        _options.Validate();
    }

    /// <summary>Validates <paramref name="result"/> from <paramref name="clientId"/> against <paramref name="global"/>.</summary>
    /// <param name="clientId">The client.</param>
    /// <param name="global">The global parameters the client started from.</param>
    /// <param name="result">The client's result.</param>
    /// <exception cref="InvalidUpdateException">The update is invalid; the message says why.</exception>
    public void Validate(string clientId, ModelParameters global, FitResult result) => Validate(clientId, global, result, round: null);

    /// <summary>
    /// Validates <paramref name="result"/> from <paramref name="clientId"/> in <paramref name="round"/>, applying the
    /// relative norm bound and the rate limit too, and remembers an accepted update for both.
    /// </summary>
    /// <param name="clientId">The client.</param>
    /// <param name="global">The global parameters the client started from.</param>
    /// <param name="result">The client's result.</param>
    /// <param name="round">The round (model version); null to skip the stateful checks.</param>
    /// <exception cref="InvalidUpdateException">The update is invalid; the message says why.</exception>
    public void Validate(string clientId, ModelParameters global, FitResult result, int? round)
    {
        ArgumentNullException.ThrowIfNull(result);
        Validate(new ClientUpdate(clientId, result.Parameters, result.ExampleCount, result.Metrics), global, round);
    }

    /// <summary>Checks one update, as <see cref="Validate(string, ModelParameters, FitResult, int?)"/> does.</summary>
    /// <param name="update">The update.</param>
    /// <param name="global">The parameters the client started from.</param>
    /// <param name="round">The round (model version); null to skip the stateful checks.</param>
    /// <exception cref="InvalidUpdateException">The update is invalid; the message says why.</exception>
    public void Validate(ClientUpdate update, ModelParameters global, int? round)
    {
        string clientId = update.ClientId;
        ArgumentNullException.ThrowIfNull(clientId);
        ArgumentNullException.ThrowIfNull(global);
        ArgumentNullException.ThrowIfNull(update.Parameters);
        ClientUpdate result = update;
        try
        {
            global.Layout.EnsureCompatible(result.Parameters.Layout, $"update from client '{clientId}'");
        }
        catch (LayoutMismatchException ex)
        {
            throw new InvalidUpdateException(clientId, ex.Message);
        }

        if (result.ExampleCount <= 0)
        {
            throw new InvalidUpdateException(clientId, $"example count {result.ExampleCount} is not positive.");
        }

        if (result.ExampleCount > _options.MaxExampleCount)
        {
            throw new InvalidUpdateException(clientId, $"example count {result.ExampleCount} exceeds the limit {_options.MaxExampleCount}.");
        }

        ReadOnlySpan<float> values = result.Parameters.Values;
        if (_options.RequireFinite && !AggregationKernels.AllFinite(values, out int bad))
        {
            throw new InvalidUpdateException(clientId, $"non-finite value {values[bad]} in {Locate(global.Layout, bad)}.");
        }

        bool relative = round is not null && _options.MaxUpdateNormToMedian is not null;
        double norm = _options.MaxUpdateNorm is not null || relative ? Math.Sqrt(SquaredDistance(values, global.Values)) : double.NaN;
        if (_options.MaxUpdateNorm is { } bound && !(norm <= bound))
        {
            throw new InvalidUpdateException(clientId, $"update norm {norm:G6} exceeds the bound {bound:G6}.");
        }

        if (round is not int r)
        {
            return;
        }

        CheckHistory(clientId, r, relative, norm);
    }

    // The stateful checks: the norm against the median of recent accepted norms, and the per-client rate limit; an
    // accepted update is then remembered.
    private void CheckHistory(string clientId, int r, bool relative, double norm)
    {
        lock (_gate)
        {
            if (relative && _recentNorms.Count >= _options.RelativeNormMinimumHistory)
            {
                double median = Median(_recentNorms);
                double limit = _options.MaxUpdateNormToMedian!.Value * median;
                if (!(norm <= limit))
                {
                    throw new InvalidUpdateException(clientId,
                        $"update norm {norm:G6} exceeds {_options.MaxUpdateNormToMedian:G4} x the median {median:G6} of the last {_recentNorms.Count} accepted updates.");
                }
            }

            Queue<int>? accepted = null;
            if (_options.MaxUpdatesPerClient is int max)
            {
                if (!_acceptedRounds.TryGetValue(clientId, out accepted))
                {
                    accepted = new Queue<int>();
                    _acceptedRounds[clientId] = accepted;
                }

                while (accepted.Count > 0 && accepted.Peek() <= r - _options.RateLimitRounds)
                {
                    accepted.Dequeue();
                }

                if (accepted.Count >= max)
                {
                    throw new InvalidUpdateException(clientId,
                        $"rate limit: {accepted.Count} updates already accepted within {_options.RateLimitRounds} round(s) (limit {max}).");
                }
            }

            accepted?.Enqueue(r);
            if (relative)
            {
                _recentNorms.Enqueue(norm);
                while (_recentNorms.Count > _options.RelativeNormWindow)
                {
                    _recentNorms.Dequeue();
                }
            }
        }
    }

    private static double Median(IEnumerable<double> values)
    {
        double[] sorted = values.ToArray();
        Array.Sort(sorted);
        int mid = sorted.Length / 2;
        return sorted.Length % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
    }

    private static double SquaredDistance(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        double sum = 0;
        const int block = 4096;
        for (int i = 0; i < a.Length; i += block)
        {
            int n = Math.Min(block, a.Length - i);
            float d = TensorPrimitives.Distance(a.Slice(i, n), b.Slice(i, n));
            sum += (double)d * d;
        }

        return sum;
    }

    private static string Locate(TensorLayout layout, int index)
    {
        for (int t = layout.Count - 1; t >= 0; t--)
        {
            if (layout.GetOffset(t) <= index && layout.Tensors[t].ElementCount > 0)
            {
                return $"tensor '{layout.Tensors[t].Name}' at element {index - layout.GetOffset(t)}";
            }
        }

        return $"element {index}";
    }
}
