using FederatedSharp.Server.Features.SparseUpdates;

namespace FederatedSharp.Server;

/// <summary>Sparse updates with error feedback: <see cref="UseSparseUpdates"/>.</summary>
public static class SparseUpdatesServerBuilderExtensions
{
    /// <summary>
    /// Asks every client for top-k sparsified deltas keeping <paramref name="fraction"/> of the values (clients wrapped
    /// in <see cref="Compression.TopKUpdateClient"/> comply and keep the rest as a residual for later rounds; others
    /// send whole models) and expands the deltas before validation. Pair it with a
    /// <see cref="Serialization.SparseModelSerializer"/> on the wire so the zeros cost nothing.
    /// </summary>
    /// <param name="builder">The builder.</param>
    /// <param name="fraction">The fraction of values kept, in (0, 1]; 0.01 sends 1%.</param>
    /// <returns>The builder.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="builder"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="fraction"/> is outside (0, 1].</exception>
    public static FederatedServerBuilder UseSparseUpdates(this FederatedServerBuilder builder, double fraction)
    {
        ArgumentNullException.ThrowIfNull(builder);
        if (!(fraction > 0 && fraction <= 1))
        {
            throw new ArgumentOutOfRangeException(nameof(fraction), fraction, "The fraction of values kept must be in (0, 1].");
        }

        return builder.UseFeature(new SparseUpdatesFeature(fraction));
    }
}
