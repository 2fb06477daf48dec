using System.Numerics.Tensors;
using FederatedSharp.Aggregation.Kernels;
using FederatedSharp.Clients;
using FederatedSharp.Parameters;

namespace FederatedSharp.Privacy;

/// <summary>
/// Checks a client's fit result before it may reach an aggregator: same layout as the global model, a positive
/// example count, finite values and (optionally) a bounded update norm. A rejected update is never aggregated.
/// </summary>
public sealed class UpdateValidator
{
    private readonly UpdateValidationOptions _options;

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
    public void Validate(string clientId, ModelParameters global, FitResult result)
    {
        ArgumentNullException.ThrowIfNull(clientId);
        ArgumentNullException.ThrowIfNull(global);
        ArgumentNullException.ThrowIfNull(result);
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

        if (_options.MaxUpdateNorm is { } bound)
        {
            double norm = Math.Sqrt(SquaredDistance(values, global.Values));
            if (!(norm <= bound))
            {
                throw new InvalidUpdateException(clientId, $"update norm {norm:G6} exceeds the bound {bound:G6}.");
            }
        }
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
