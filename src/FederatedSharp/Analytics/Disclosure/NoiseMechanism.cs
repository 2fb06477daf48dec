namespace FederatedSharp.Analytics;

/// <summary>The noise a site adds to the numbers it releases.</summary>
public enum NoiseMechanism
{
    /// <summary>No noise: exact values, protected by suppression only.</summary>
    None,

    /// <summary>Laplace noise, pure epsilon-DP per query.</summary>
    Laplace,

    /// <summary>Gaussian noise with the classical calibration, (epsilon, delta)-DP per query.</summary>
    Gaussian,
}

/// <summary>Clipping bounds of a column, which fix the sensitivity of its sums under noise.</summary>
/// <param name="Lower">The smallest value kept; smaller values are clamped to it.</param>
/// <param name="Upper">The largest value kept; larger values are clamped to it.</param>
public readonly record struct ValueBounds(double Lower, double Upper);
