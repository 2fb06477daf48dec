namespace FederatedSharp.Server;

/// <summary>Settings of downlink deltas (<see cref="DownlinkDeltasServerBuilderExtensions.UseDownlinkDeltas(FederatedServerBuilder, DownlinkDeltaOptions)"/>).</summary>
public sealed class DownlinkDeltaOptions
{
    /// <summary>
    /// The fraction of the values of each delta sent (top-k by magnitude), in (0, 1] (default 0.1). The rest stays in
    /// the difference between the global model and the client's reference, and goes in a later delta.
    /// </summary>
    public double Fraction { get; set; } = 0.1;

    /// <summary>
    /// Rounds the values sent to float16 (default true), so a <see cref="Serialization.SparseModelSerializer"/> stores
    /// them in 2 bytes; the rounding error, like the values not sent, goes in a later delta.
    /// </summary>
    public bool HalfPrecision { get; set; } = true;

    /// <summary>
    /// How many clients' references the server keeps (default 1,024), each the size of the model; beyond it the client
    /// least recently sent a model is forgotten and gets a whole model next time.
    /// </summary>
    public int MaxTrackedClients { get; set; } = 1024;

    /// <summary>Checks the settings.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A setting is out of range.</exception>
    public void Validate()
    {
        if (!(Fraction > 0 && Fraction <= 1))
        {
            throw new ArgumentOutOfRangeException(nameof(Fraction), Fraction, "The fraction of a delta's values sent must be in (0, 1].");
        }

        ArgumentOutOfRangeException.ThrowIfLessThan(MaxTrackedClients, 1, nameof(MaxTrackedClients));
    }
}
