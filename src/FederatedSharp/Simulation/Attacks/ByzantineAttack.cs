namespace FederatedSharp.Simulation.Attacks;

/// <summary>What a Byzantine client does to the update it sends (for robustness experiments).</summary>
public enum ByzantineAttack
{
    /// <summary>Sends <c>w - 10 (w_i - w)</c>: its honest update reversed and amplified tenfold.</summary>
    SignFlip,

    /// <summary>Sends <c>w + N(0, sigma^2)</c> in every coordinate instead of training (sigma = the attack scale).</summary>
    GaussianNoise,

    /// <summary>
    /// A small, consistent shift in the spirit of "A Little Is Enough" (Baruch et al. 2019), without collusion: the
    /// honest update minus scale x |update| per coordinate, small enough to look plausible to distance-based defences.
    /// </summary>
    SmallShift,
}
