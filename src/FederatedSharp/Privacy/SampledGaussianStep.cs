namespace FederatedSharp.Privacy;

/// <summary>The argument checks every accountant of the sampled Gaussian mechanism shares.</summary>
internal static class SampledGaussianStep
{
    public static void Check(double sampleRate, double noiseMultiplier, long steps)
    {
        if (!(sampleRate >= 0 && sampleRate <= 1))
        {
            throw new ArgumentOutOfRangeException(nameof(sampleRate), sampleRate, "The sample rate must lie in [0, 1].");
        }

        if (!(noiseMultiplier > 0) || !double.IsFinite(noiseMultiplier))
        {
            throw new ArgumentOutOfRangeException(nameof(noiseMultiplier), noiseMultiplier, "The noise multiplier must be a finite number > 0.");
        }

        ArgumentOutOfRangeException.ThrowIfNegative(steps);
    }
}
