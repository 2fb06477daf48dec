using FederatedSharp.Server.Features.DownlinkDeltas;

namespace FederatedSharp.Server;

/// <summary>Compressed downloads with error feedback on the server: <see cref="UseDownlinkDeltas(FederatedServerBuilder, DownlinkDeltaOptions)"/>.</summary>
public static class DownlinkDeltasServerBuilderExtensions
{
    /// <summary>
    /// Sends each client, instead of the global model, the top-k of the difference between the global model and the
    /// model that client already holds (its reference), rounded to float16: the client adds it to its reference and
    /// trains from the sum. The server keeps one reference per client, so what was not sent (the smaller values, the
    /// rounding) is in the next difference, whatever rounds the client skipped. A client gets the whole model the
    /// first time, after any failure, and when it does not report holding exactly what was sent; clients must be
    /// wrapped in <see cref="Compression.DownlinkDeltaClient"/> to receive deltas, others always get whole models.
    /// Needs a lossless downlink format, typically <see cref="Serialization.SparseModelSerializer"/> (which stores the
    /// zeros of a delta for nothing). Evaluations still send the whole model.
    /// </summary>
    /// <param name="builder">The builder.</param>
    /// <param name="options">The settings; null for the defaults (10% of the values, float16).</param>
    /// <returns>The builder.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="builder"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A setting is out of range.</exception>
    public static FederatedServerBuilder UseDownlinkDeltas(this FederatedServerBuilder builder, DownlinkDeltaOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        options ??= new DownlinkDeltaOptions();
        options.Validate();
        return builder.UseFeature(new DownlinkDeltasFeature(options));
    }

    /// <summary>Downlink deltas keeping <paramref name="fraction"/> of each delta's values (float16); see <see cref="UseDownlinkDeltas(FederatedServerBuilder, DownlinkDeltaOptions)"/>.</summary>
    /// <param name="builder">The builder.</param>
    /// <param name="fraction">The fraction of values sent, in (0, 1].</param>
    /// <returns>The builder.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="builder"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="fraction"/> is outside (0, 1].</exception>
    public static FederatedServerBuilder UseDownlinkDeltas(this FederatedServerBuilder builder, double fraction) =>
        builder.UseDownlinkDeltas(new DownlinkDeltaOptions { Fraction = fraction });
}
