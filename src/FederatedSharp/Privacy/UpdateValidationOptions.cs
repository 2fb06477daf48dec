namespace FederatedSharp.Privacy;

/// <summary>What <see cref="UpdateValidator"/> checks besides the layout.</summary>
public sealed class UpdateValidationOptions
{
    /// <summary>Reject updates holding NaN or infinity (default true).</summary>
    public bool RequireFinite { get; set; } = true;

    /// <summary>Reject updates whose L2 distance from the global model exceeds this bound; null (default) for no bound.</summary>
    public double? MaxUpdateNorm { get; set; }

    /// <summary>Largest accepted example count per update (default: no limit). Bounds the weight a single client can claim.</summary>
    public long MaxExampleCount { get; set; } = long.MaxValue;

    /// <summary>Checks the settings.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A bound is not positive.</exception>
    public void Validate()
    {
        if (MaxUpdateNorm is { } norm && !(norm > 0))
        {
            throw new ArgumentOutOfRangeException(nameof(MaxUpdateNorm), norm, "The update norm bound must be positive.");
        }

        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(MaxExampleCount, nameof(MaxExampleCount));
    }
}
